// placeholder until merge
