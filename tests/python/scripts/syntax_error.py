"""Cannot be imported: a syntax error on line 3."""

def run(mini_batch)
    return mini_batch
