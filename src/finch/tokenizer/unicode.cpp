// unicode: being written.
