"""End to end through the finch binary: `finch download` against a fake Hub over real HTTP
(hub_server.py), and the Hub cache shared with Python huggingface_hub both ways.

Covers: tree listing with pagination (a whole-repo download), one file, an LFS file redirected to a
CDN origin (the token must not follow), token required (absent / wrong / HF_TOKEN / token file; the
token never printed), 404 for repo, revision and file, HTTP 500 then ok, a connection dropped mid-file
(resumed with Range; bytes equal), offline from the cache, a cache filled by huggingface_hub read by
finch offline and one filled by finch read by huggingface_hub offline, and `--dataset-files` resolving
a Hub dataset through its parquet conversion (refs/convert/parquet) and through raw files by config.

Usage: test_hub_cli.py FINCH_BINARY
"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import urllib.request

from cli_check import check, expect_error, finish

FINCH = sys.argv[1]
HERE = os.path.dirname(os.path.abspath(__file__))
TOKEN = "hf_secretTOKEN123456789"
MODEL_SHA = "a" * 39 + "1"
DATA_SHA = "b" * 39 + "2"
PARQUET_SHA = "c" * 39 + "3"
RAW_SHA = "d" * 39 + "4"


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def make_repos(root):
    big = bytes((i * 7919 + (i >> 8)) % 256 for i in range(300_000))
    model = os.path.join(root, "models/org/tiny-model")
    write(f"{model}/refs.json", json.dumps({"main": MODEL_SHA}))
    write(os.path.join(root, "models/renamed.json"), json.dumps({"org/old-model": "org/tiny-model"}))
    files = {"config.json": '{"a": 1}', "model.safetensors": big, "sub/notes.txt": "hello\n",
             "sub/deep/x.txt": "x", "tokenizer.json": "{}", "README.md": "# tiny\n"}
    for name, data in files.items():
        write(f"{model}/{MODEL_SHA}/{name}", data)
    data = os.path.join(root, "datasets/org/tiny-data")
    write(f"{data}/refs.json", json.dumps({"main": DATA_SHA, "refs/convert/parquet": PARQUET_SHA}))
    write(f"{data}/{DATA_SHA}/train.jsonl", '{"q": 1}\n')
    write(f"{data}/{DATA_SHA}/README.md", "# data\n")
    write(f"{data}/{PARQUET_SHA}/default/train/0000.parquet", b"PAR1train" + big[:1000])
    write(f"{data}/{PARQUET_SHA}/default/test/0000.parquet", b"PAR1test" + big[:500])
    # A real dataset for `finch data prepare` end to end: only its parquet conversion holds rows.
    import pyarrow as pa
    import pyarrow.parquet as pq
    qa = os.path.join(root, "datasets/org/qa-data")
    write(f"{qa}/refs.json", json.dumps({"main": DATA_SHA, "refs/convert/parquet": PARQUET_SHA}))
    write(f"{qa}/{DATA_SHA}/README.md", "# qa\n")
    os.makedirs(f"{qa}/{PARQUET_SHA}/default/train", exist_ok=True)
    pq.write_table(pa.Table.from_pylist([{"instruction": f"add {i} and 1", "input": "", "output": str(i + 1)}
                                         for i in range(200)]),
                   f"{qa}/{PARQUET_SHA}/default/train/0000.parquet", row_group_size=50)
    raw = os.path.join(root, "datasets/org/raw-data")
    write(f"{raw}/refs.json", json.dumps({"main": RAW_SHA}))
    write(f"{raw}/{RAW_SHA}/en/train.jsonl", '{"en": 1}\n')
    write(f"{raw}/{RAW_SHA}/en/test.jsonl", '{"en": 2}\n')
    write(f"{raw}/{RAW_SHA}/fr/train.jsonl", '{"fr": 1}\n')
    return files


class Server:
    def __init__(self, root, token=None):
        args = [sys.executable, os.path.join(HERE, "hub_server.py"), root] + (["--token", token] if token else [])
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        self.ports = json.loads(self.proc.stdout.readline())
        self.url = f"http://127.0.0.1:{self.ports['hub']}"

    def control(self, **body):
        req = urllib.request.Request(self.url + "/_control", data=json.dumps(body).encode(), method="POST")
        urllib.request.urlopen(req).read()

    def log(self):
        req = urllib.request.Request(self.url + "/_log", headers={"Authorization": f"Bearer {TOKEN}"})
        return json.loads(urllib.request.urlopen(req).read())

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def env_for(home, endpoint, token=None, offline=False):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
    env.update({"HF_HOME": home, "HF_ENDPOINT": endpoint, "HF_HUB_DISABLE_TELEMETRY": "1"})
    if token:
        env["HF_TOKEN"] = token
    if offline:
        env["HF_HUB_OFFLINE"] = "1"
    return env


def finch(env, *args):
    return subprocess.run([FINCH, "download", *args], capture_output=True, text=True, env=env, timeout=120)


def python(env, code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


with tempfile.TemporaryDirectory() as tmp:
    files = make_repos(os.path.join(tmp, "repos"))
    server = Server(os.path.join(tmp, "repos"))
    home = os.path.join(tmp, "home-finch")
    env = env_for(home, server.url)
    model_dir = os.path.join(home, "hub", "models--org--tiny-model")

    # One small file: ETag = git sha1, X-Repo-Commit -> refs/main.
    r = finch(env, "org/tiny-model", "config.json")
    path = r.stdout.strip()
    check("one file: exit 0", r.returncode == 0, r.stderr)
    check("one file: path in snapshot", path == os.path.join(model_dir, "snapshots", MODEL_SHA, "config.json"), path)
    check("one file: bytes", os.path.isfile(path) and open(path).read() == files["config.json"])
    check("one file: relative symlink to blob", os.path.islink(path) and os.readlink(path).startswith("../../blobs/"))
    check("one file: refs/main", open(os.path.join(model_dir, "refs", "main")).read() == MODEL_SHA)

    # LFS via the CDN: blob named by sha256, no Authorization sent to the CDN.
    server.control(clear_log=True)
    r = finch(env, "org/tiny-model", "model.safetensors")
    path = r.stdout.strip()
    want = hashlib.sha256(files["model.safetensors"]).hexdigest()
    check("lfs redirect: exit 0", r.returncode == 0, r.stderr)
    check("lfs redirect: blob is sha256", os.path.realpath(path) == os.path.join(model_dir, "blobs", want))
    check("lfs redirect: bytes", r.returncode == 0 and sha(path) == want)
    check("lfs redirect: fetched from the cdn", any(e["server"] == "cdn" and e["method"] == "GET" for e in server.log()))

    # Drop mid-file: resumed with a Range request, bytes equal.
    env2 = env_for(os.path.join(tmp, "home-drop"), server.url)
    server.control(clear_log=True, drop={"model.safetensors": 100_000})
    r = finch(env2, "org/tiny-model", "model.safetensors")
    check("drop and resume: exit 0", r.returncode == 0, r.stderr)
    check("drop and resume: bytes", r.returncode == 0 and sha(r.stdout.strip()) == want)
    ranges = [e["range"] for e in server.log() if e["server"] == "cdn"]
    check("drop and resume: Range request", "bytes=100000-" in ranges, str(ranges))
    check("drop and resume: no .incomplete left",
          not any(n.endswith(".incomplete") for n in os.listdir(os.path.join(tmp, "home-drop/hub/models--org--tiny-model/blobs"))))

    # A renamed repo: HEAD follows the Hub's same-origin redirect; cached under the name asked for.
    r = finch(env, "org/old-model", "config.json")
    check("same-origin redirect", r.returncode == 0 and r.stdout.strip() == os.path.join(
        home, "hub", "models--org--old-model", "snapshots", MODEL_SHA, "config.json"), r.stdout + r.stderr)

    # Corrupted bytes of an LFS file: the sha256 check fails, nothing enters the cache.
    env3 = env_for(os.path.join(tmp, "home-corrupt"), server.url)
    server.control(corrupt={"model.safetensors": True})
    expect_error("lfs sha256 mismatch", finch(env3, "org/tiny-model", "model.safetensors"), "corrupt", "sha256")
    blobs = os.path.join(tmp, "home-corrupt/hub/models--org--tiny-model/blobs")
    check("lfs sha256 mismatch: no blob kept", not os.path.isdir(blobs) or os.listdir(blobs) == [], str(os.listdir(blobs)))

    # 500 once, then ok.
    server.control(clear_log=True, fail500={"tokenizer.json": 1})
    r = finch(env, "org/tiny-model", "tokenizer.json")
    heads = [e for e in server.log() if e["method"] == "HEAD"]
    check("500 then ok: exit 0", r.returncode == 0, r.stderr)
    check("500 then ok: retried", len(heads) == 2, str(heads))

    # Whole repo: paginated tree listing (3 per page), trees/{commit}.json written.
    server.control(clear_log=True)
    r = finch(env, "org/tiny-model")
    snap = r.stdout.strip()
    check("snapshot: exit 0", r.returncode == 0, r.stderr)
    check("snapshot: folder", snap == os.path.join(model_dir, "snapshots", MODEL_SHA), snap)
    check("snapshot: every file", all(os.path.isfile(os.path.join(snap, f)) for f in files))
    check("snapshot: pagination followed", sum("cursor=" in e["path"] for e in server.log()) >= 1)
    check("snapshot: tree cache", os.path.isfile(os.path.join(model_dir, "trees", MODEL_SHA + ".json")))

    # 404s name what is missing.
    expect_error("404 repo", finch(env, "org/nope", "config.json"), "model org/nope not found")
    expect_error("404 file", finch(env, "org/tiny-model", "missing.txt"), "missing.txt", "not found")
    expect_error("404 revision", finch(env, "org/tiny-model", "config.json", "--revision", "v9"), "revision 'v9'")
    expect_error("404 dataset", finch(env, "org/tiny-model", "--repo-type", "dataset"), "dataset org/tiny-model")

    # Offline: from the cache, by ref; the server is not reachable.
    off = env_for(home, "http://127.0.0.1:9", offline=True)
    r = finch(off, "org/tiny-model", "config.json")
    check("offline file", r.returncode == 0 and r.stdout.strip().endswith("config.json"), r.stderr)
    r = finch(off, "org/tiny-model")
    check("offline snapshot", r.returncode == 0 and r.stdout.strip() == snap, r.stderr)
    expect_error("offline missing", finch(off, "org/other", "x.txt"), "HF_HUB_OFFLINE")

    # Cache filled by finch, read by huggingface_hub offline.
    code = ("import huggingface_hub as h;"
            "print(h.hf_hub_download('org/tiny-model','model.safetensors'));"
            "print(h.snapshot_download('org/tiny-model'))")
    r = python(off, code)
    lines = r.stdout.split()
    check("finch cache read by huggingface_hub", r.returncode == 0 and lines == [os.path.join(snap, "model.safetensors"), snap],
          r.stderr[-500:])

    # Cache filled by huggingface_hub, read by finch offline.
    phome = os.path.join(tmp, "home-python")
    r = python(env_for(phome, server.url),
               "import huggingface_hub as h;print(h.hf_hub_download('org/tiny-model','sub/notes.txt'));"
               "print(h.snapshot_download('org/tiny-data', repo_type='dataset'));"
               "print(h.hf_hub_download('org/tiny-data','default/test/0000.parquet',repo_type='dataset',revision='refs/convert/parquet'))")
    check("huggingface_hub fills a cache", r.returncode == 0, r.stderr[-800:])
    py_paths = r.stdout.split()
    poff = env_for(phome, "http://127.0.0.1:9", offline=True)
    r = finch(poff, "org/tiny-model", "sub/notes.txt")
    check("python cache read by finch: file", r.returncode == 0 and r.stdout.strip() == py_paths[0], r.stderr)
    r = finch(poff, "org/tiny-data", "--repo-type", "dataset")
    check("python cache read by finch: snapshot", r.returncode == 0 and r.stdout.strip() == py_paths[1], r.stderr)
    r = finch(poff, "org/tiny-data", "--dataset-files", "--split", "test")
    check("python cache read by finch: parquet ref", r.returncode == 0 and r.stdout.strip() == py_paths[2], r.stdout + r.stderr)

    # --dataset-files: the parquet conversion first, else raw files by config.
    r = finch(env, "org/tiny-data", "--dataset-files", "--split", "train")
    check("dataset files: parquet conversion", r.returncode == 0 and r.stdout.strip().endswith(
        f"datasets--org--tiny-data/snapshots/{PARQUET_SHA}/default/train/0000.parquet"), r.stdout + r.stderr)
    check("dataset files: refs/convert/parquet cached",
          open(os.path.join(home, "hub/datasets--org--tiny-data/refs/refs/convert/parquet")).read() == PARQUET_SHA)
    r = finch(env, "org/raw-data", "--dataset-files", "--config", "en", "--split", "test")
    check("dataset files: raw by config and split", r.returncode == 0 and r.stdout.strip().endswith(
        f"snapshots/{RAW_SHA}/en/test.jsonl"), r.stdout + r.stderr)
    expect_error("dataset files: missing split", finch(env, "org/raw-data", "--dataset-files", "--config", "fr", "--split", "test"),
                 "split 'test' not found", "train")
    expect_error("dataset files: missing config", finch(env, "org/raw-data", "--dataset-files", "--config", "de"),
                 "config 'de' not found", "en/train.jsonl")

    # finch data prepare on a Hub dataset: its parquet conversion, then again offline from the cache.
    out = os.path.join(tmp, "prepared")
    prep = [FINCH, "data", "prepare", "--hfdc_dataset_name", "org/qa-data", "--data.datasets_dir", out]
    r = subprocess.run(prep, capture_output=True, text=True, env=env, timeout=120)
    split_dir = os.path.join(out, "org_qa-data", "default", "train=90%-val=5%-test=5%")
    lines = open(os.path.join(split_dir, "training.jsonl")).read().splitlines() if r.returncode == 0 else []
    check("data prepare from the Hub's parquet conversion", r.returncode == 0 and len(lines) == 180
          and all(json.loads(line)["output"].startswith("### Response:\n") for line in lines), r.stderr[-400:])
    r = subprocess.run(prep + ["--force"], capture_output=True, text=True, env={**env, "HF_HUB_OFFLINE": "1"},
                       timeout=120)
    check("data prepare again offline, from the cache", r.returncode == 0
          and open(os.path.join(split_dir, "training.jsonl")).read().splitlines() == lines, r.stderr[-400:])
    server.stop()

    # A server that requires a token.
    secure = Server(os.path.join(tmp, "repos"), token=TOKEN)
    shome = os.path.join(tmp, "home-token")
    r = finch(env_for(shome, secure.url), "org/tiny-model", "config.json")
    expect_error("token absent", r, "401", "token is needed")
    r = finch(env_for(shome, secure.url, token="hf_wrongwrongwrong"), "org/tiny-model", "config.json")
    expect_error("token wrong", r, "401", "rejected", "HF_TOKEN")
    check("token wrong: not printed", "hf_wrongwrongwrong" not in r.stdout + r.stderr)
    r = finch(env_for(shome, secure.url, token=TOKEN), "org/tiny-model", "model.safetensors")
    check("token from HF_TOKEN: lfs via cdn", r.returncode == 0 and sha(r.stdout.strip()) == want, r.stderr)
    check("token from HF_TOKEN: not printed", TOKEN not in r.stdout + r.stderr)
    check("token not sent to the cdn", not any(e["server"] == "cdn" and e["auth"] for e in secure.log()))
    write(os.path.join(shome, "token"), TOKEN + "\n")
    r = finch(env_for(shome, secure.url), "org/tiny-model", "config.json")
    check("token from HF_HOME/token", r.returncode == 0, r.stderr)
    # 5xx that persists: 5 retries with backoff (1+2+4+8+8 s), then one line naming the URL, not the token.
    secure.control(fail500={"sub/notes.txt": 100})
    r = finch(env_for(shome, secure.url), "org/tiny-model", "sub/notes.txt")
    lines = r.stderr.strip().splitlines()
    check("persistent 500: one error line naming the url", r.returncode == 1 and lines[-1].startswith("finch: error: HTTP 500")
          and f"{secure.url}/org/tiny-model/resolve/main/sub/notes.txt" in lines[-1], r.stderr)
    check("persistent 500: retried 5 times", sum("retrying" in line for line in lines) == 5, r.stderr)
    check("persistent 500: token not printed", TOKEN not in r.stdout + r.stderr)
    write(os.path.join(shome, "token"), "hf_badfile\n")
    r = finch(env_for(shome, secure.url), "org/tiny-model", "tokenizer.json")
    expect_error("token file wrong", r, "401", "rejected", "token")
    check("token file wrong: not printed", "hf_badfile" not in r.stdout + r.stderr)
    secure.stop()

finish("cli.hub")
