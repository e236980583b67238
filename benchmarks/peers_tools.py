#!/usr/bin/python3
"""The peers of benchmarks/peers.py, one mode each; every mode scores the same mini-batches with peers_score.

  peers_tools.py serial   MODEL LIST OUT       one process, a loop over the mini-batches (the ideal)
  peers_tools.py pool     MODEL LIST OUT       multiprocessing.Pool(2), imap_unordered
  peers_tools.py dask     MODEL LIST OUT       Dask distributed LocalCluster, 2 single-threaded worker processes
  mpirun -np 3 python3 -m mpi4py.futures peers_tools.py mpi4py MODEL LIST OUT
  peers_tools.py batch    MODEL FILE...        one mini-batch to stdout (GNU parallel runs one process per batch)
  peers_tools.py load     MODEL                a worker's start alone: the interpreter, pandas, the model

LIST is a text file of input paths, one a line, in mini-batch order; OUT gets the rows. peers_score must be
importable (PYTHONPATH).
"""
import sys

import peers_score

BATCH = 10
WORKERS = 2


def batches(list_file):
    with open(list_file) as f:
        paths = f.read().split()
    return [paths[i:i + BATCH] for i in range(0, len(paths), BATCH)]


def worker_text(model_folder, paths):
    """A mini-batch's rows on a worker that loads the model on its first call (mpi4py.futures, Dask)."""
    if peers_score.model is None:
        peers_score.load_model(model_folder)
    return peers_score.score_text(paths)


def serial(model, work):
    peers_score.load_model(model)
    return (peers_score.score_text(b) for b in work)


def pool(model, work):
    import multiprocessing
    with multiprocessing.Pool(WORKERS, initializer=peers_score.load_model, initargs=(model,)) as p:
        yield from p.imap_unordered(peers_score.score_text, work)


def dask(model, work):
    import logging
    from dask.distributed import Client, LocalCluster, as_completed
    with LocalCluster(n_workers=WORKERS, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        futures = client.map(worker_text, [model] * len(work), work, pure=False)
        for future in as_completed(futures):
            yield future.result()


def mpi4py(model, work):
    from mpi4py.futures import MPIPoolExecutor
    with MPIPoolExecutor() as executor:
        yield from executor.map(worker_text, [model] * len(work), work, unordered=True)


def main():
    mode, model = sys.argv[1], sys.argv[2]
    if mode == "load":
        peers_score.load_model(model)
        return 0
    if mode == "batch":
        peers_score.load_model(model)
        sys.stdout.write(peers_score.score_text(sys.argv[3:]))
        return 0
    tools = {"serial": serial, "pool": pool, "dask": dask, "mpi4py": mpi4py}
    with open(sys.argv[4], "w") as out:
        for text in tools[mode](model, batches(sys.argv[3])):
            out.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
