// regex: being written.
