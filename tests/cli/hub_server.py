"""A fake Hugging Face Hub over real HTTP, for the Hub client tests.

Serves fake repos from a directory tree:
    ROOT/{models|datasets}/{org}/{name}/refs.json      {"main": "<sha>", "refs/convert/parquet": "<sha>"}
    ROOT/{models|datasets}/{org}/{name}/{sha}/<files>   the repo's files at that commit
with the Hub's URL layout:
    HEAD|GET /[datasets/]{org}/{name}/resolve/{revision, URL-encoded}/{path}
    GET /api/{models|datasets}/{org}/{name}/revision/{revision}
    GET /api/{models|datasets}/{org}/{name}/tree/{revision}[/{path}]?recursive=..&cursor=..  (3 per page, Link)
Files ending .parquet/.safetensors/.bin are LFS: /resolve answers 302 to a second port (the "CDN", another
origin) with X-Linked-Etag (sha256) and X-Linked-Size; others answer 200 with ETag = git blob sha1.
ROOT/{kind}/renamed.json {"old/id": "new/id"} makes /resolve of old/id answer 307 to new/id (same origin).
Every answer carries X-Repo-Commit. With --token, Hub requests need "Authorization: Bearer TOKEN" (else 401);
the CDN refuses any Authorization header (400), as signed CDN URLs do.

Faults, set with POST /_control {"fail500": {path: count}, "drop": {path: bytes}, "corrupt": {path: true}}:
/resolve of `path` answers 500 `count` times; the next download of `path` stops after `bytes` bytes
(connection closed), or has its first byte flipped. GET /_log lists
the requests seen ({"server", "method", "path", "range", "auth"}).

Usage: hub_server.py ROOT [--token T]; prints {"hub": port, "cdn": port} on its first stdout line.
"""
import hashlib
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, unquote, urlsplit

ROOT = sys.argv[1]
TOKEN = sys.argv[sys.argv.index("--token") + 1] if "--token" in sys.argv else None
LFS_SUFFIXES = (".parquet", ".safetensors", ".bin")
PAGE = 3
state = {"fail500": {}, "drop": {}, "corrupt": {}, "log": []}
lock = threading.Lock()
ports = {}


def git_sha1(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def repo_dir(kind, repo_id):
    return os.path.join(ROOT, kind, repo_id)


def commit_of(kind, repo_id, revision):
    refs_path = os.path.join(repo_dir(kind, repo_id), "refs.json")
    refs = json.load(open(refs_path))
    if revision in refs:
        return refs[revision]
    if revision in refs.values():
        return revision
    return None


def files_at(kind, repo_id, commit):
    base = os.path.join(repo_dir(kind, repo_id), commit)
    out = []
    for dirpath, _, names in os.walk(base):
        for n in names:
            out.append(os.path.relpath(os.path.join(dirpath, n), base).replace(os.sep, "/"))
    return sorted(out)


class Handler(BaseHTTPRequestHandler):
    server_name = "hub"

    def log_message(self, *args):
        pass

    def record(self):
        with lock:
            state["log"].append({"server": self.server_name, "method": self.command, "path": self.path,
                                 "range": self.headers.get("Range"), "auth": "Authorization" in self.headers})

    def reply(self, status, headers=None, body=b""):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if "Content-Length" not in (headers or {}):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_file(self, data, key, extra):
        """Whole file or a Range tail; a `drop` fault closes the connection part way, once."""
        start = 0
        rng = self.headers.get("Range")
        headers = dict(extra)
        status = 200
        if rng and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
            status = 206
            headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
        headers["Content-Length"] = str(len(data) - start)
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        if self.command == "HEAD":
            return
        with lock:
            cut = state["drop"].pop(key, None)
            if state["corrupt"].pop(key, None):
                data = bytes([data[0] ^ 1]) + data[1:]
        if cut is not None:
            self.wfile.write(data[start:cut])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self.wfile.write(data[start:])

    def do_HEAD(self):
        self.handle_any()

    def do_GET(self):
        self.handle_any()

    def do_POST(self):
        self.record()
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        with lock:
            for k in ("fail500", "drop", "corrupt"):
                state[k].update(body.get(k, {}))
            if body.get("clear_log"):
                state["log"].clear()
        self.reply(200, {}, b"{}")

    def handle_any(self):
        self.record()
        url = urlsplit(self.path)
        if url.path == "/_log":
            with lock:
                return self.reply(200, {"Content-Type": "application/json"}, json.dumps(state["log"]).encode())
        if TOKEN is not None and self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self.reply(401, {"Content-Type": "application/json"}, b'{"error":"Invalid credentials"}')
        parts = url.path.split("/")[1:]  # raw (still encoded) segments
        if parts[0] == "api":
            return self.api(parts[1:], parse_qs(url.query), url)
        kind = "models"
        if parts[0] == "datasets":
            kind, parts = "datasets", parts[1:]
        if len(parts) < 5 or parts[2] != "resolve":
            return self.reply(404, {"X-Error-Code": "RepoNotFound"})
        return self.resolve(kind, f"{parts[0]}/{parts[1]}", unquote(parts[3]), unquote("/".join(parts[4:])))

    def check_repo(self, kind, repo_id, revision):
        if not os.path.isdir(repo_dir(kind, repo_id)):
            self.reply(404, {"X-Error-Code": "RepoNotFound"}, b'{"error":"Repository not found"}')
            return None
        commit = commit_of(kind, repo_id, revision)
        if commit is None:
            self.reply(404, {"X-Error-Code": "RevisionNotFound"}, b'{"error":"Invalid rev id"}')
        return commit

    def resolve(self, kind, repo_id, revision, path):
        renamed = os.path.join(ROOT, kind, "renamed.json")
        if os.path.isfile(renamed) and repo_id in json.load(open(renamed)):
            # A renamed repo: a relative redirect on the Hub's own origin, as the Hub answers.
            target = json.load(open(renamed))[repo_id]
            return self.reply(307, {"Location": self.path.replace(repo_id, target, 1)})
        commit = self.check_repo(kind, repo_id, revision)
        if commit is None:
            return
        with lock:
            if state["fail500"].get(path, 0) > 0:
                state["fail500"][path] -= 1
                return self.reply(500, {}, b"Internal Error")
        disk = os.path.join(repo_dir(kind, repo_id), commit, path)
        if not os.path.isfile(disk):
            return self.reply(404, {"X-Error-Code": "EntryNotFound", "X-Repo-Commit": commit}, b'{"error":"Entry not found"}')
        data = open(disk, "rb").read()
        if path.endswith(LFS_SUFFIXES):
            sha = hashlib.sha256(data).hexdigest()
            return self.reply(302, {"Location": f"http://127.0.0.1:{ports['cdn']}/cdn/{kind}/{repo_id}/{commit}/{quote(path)}",
                                    "X-Repo-Commit": commit, "X-Linked-Etag": f'"{sha}"', "X-Linked-Size": str(len(data)),
                                    "ETag": f'"{git_sha1(data)}"', "Content-Length": "0"})
        self.send_file(data, path, {"ETag": f'"{git_sha1(data)}"', "X-Repo-Commit": commit})

    def api(self, parts, query, url):
        kind, repo_id, op = parts[0], f"{parts[1]}/{parts[2]}", parts[3]
        revision = unquote(parts[4])
        commit = self.check_repo(kind, repo_id, revision)
        if commit is None:
            return
        if op == "revision":
            files = files_at(kind, repo_id, commit)
            info = {"id": repo_id, "sha": commit, "private": False, "siblings": [{"rfilename": f} for f in files]}
            return self.reply(200, {"Content-Type": "application/json"}, json.dumps(info).encode())
        folder = unquote("/".join(parts[5:]))
        base = os.path.join(repo_dir(kind, repo_id), commit)
        if folder and not os.path.exists(os.path.join(base, folder)):
            return self.reply(404, {"X-Error-Code": "EntryNotFound"}, b'{"error":"not found"}')
        recursive = query.get("recursive", ["false"])[0].lower() == "true"
        entries = []
        for f in files_at(kind, repo_id, commit):
            if folder and not f.startswith(folder + "/"):
                continue
            rest = f[len(folder) + 1:] if folder else f
            if not recursive and "/" in rest:
                d = (folder + "/" if folder else "") + rest.split("/")[0]
                if not any(e["path"] == d for e in entries):
                    entries.append({"type": "directory", "oid": "0" * 40, "size": 0, "path": d})
                continue
            data = open(os.path.join(base, f), "rb").read()
            e = {"type": "file", "oid": git_sha1(data), "size": len(data), "path": f}
            if f.endswith(LFS_SUFFIXES):
                e["lfs"] = {"oid": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 130}
            entries.append(e)
        cursor = int(query.get("cursor", ["0"])[0])
        page = entries[cursor:cursor + PAGE]
        headers = {"Content-Type": "application/json"}
        if cursor + PAGE < len(entries):
            q = "&".join(f"{k}={v[0]}" for k, v in query.items() if k != "cursor")
            headers["Link"] = f'<http://127.0.0.1:{ports["hub"]}{url.path}?{q}&cursor={cursor + PAGE}>; rel="next"'
        self.reply(200, headers, json.dumps(page).encode())


class CdnHandler(Handler):
    server_name = "cdn"

    def handle_any(self):
        self.record()
        if "Authorization" in self.headers:
            return self.reply(400, {}, b"Only one auth mechanism allowed")
        parts = urlsplit(self.path).path.split("/")[2:]  # cdn/{kind}/{org}/{name}/{commit}/{path}
        kind, repo_id, commit, path = parts[0], f"{parts[1]}/{parts[2]}", parts[3], unquote("/".join(parts[4:]))
        disk = os.path.join(repo_dir(kind, repo_id), commit, path)
        if not os.path.isfile(disk):
            return self.reply(404)
        self.send_file(open(disk, "rb").read(), path, {})


def main():
    hub = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    cdn = ThreadingHTTPServer(("127.0.0.1", 0), CdnHandler)
    ports["hub"], ports["cdn"] = hub.server_address[1], cdn.server_address[1]
    threading.Thread(target=cdn.serve_forever, daemon=True).start()
    print(json.dumps(ports), flush=True)
    hub.serve_forever()


if __name__ == "__main__":
    main()
