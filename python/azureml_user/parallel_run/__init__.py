"""EntryScript, as the cloud service's parallel run offers it to entry scripts, for scripts run by prs_mpi.

    from azureml_user.parallel_run import EntryScript
    logger = EntryScript().logger          # lines go to logs/user/entry_script_log/<node>/processNNN.log.txt
    EntryScript().output_dir               # the folder of the job's output (AZUREML_BI_OUTPUT_PATH)

prs_mpi puts this package on sys.path after the entry script's own code folder; the worker's environment
(PRS_LOG_DIR, PRS_NODE, PRS_RANK, PRS_PROCESS_NAME, PRS_LOGGING_LEVEL, AZUREML_BI_OUTPUT_PATH) says where things are.
"""
import logging
import os

__all__ = ["EntryScript"]

LOGGER_NAME = "ParallelRunStep.EntryScript"
LOG_FORMAT = "%(asctime)s|%(levelname)s|%(process)d|%(threadName)s|%(name)s|%(message)s"
_STATE = {}  # set up once per process: the logger and its file handler


def _env(name, default=""):
    return os.environ.get(name, default)


def _agent_name():
    return _env("PRS_PROCESS_NAME", f"process{int(_env('PRS_RANK', '0') or 0):03d}")


def _node_log_dir():
    base = _env("PRS_LOG_DIR") or os.path.join(os.getcwd(), "logs")
    return os.path.join(base, "user", "entry_script_log", _env("PRS_NODE") or "localhost")


def _logger():
    if "logger" in _STATE:
        return _STATE["logger"]
    logger = logging.getLogger(LOGGER_NAME)
    logger.setLevel(_env("PRS_LOGGING_LEVEL", "INFO").upper())
    folder = _node_log_dir()
    os.makedirs(folder, exist_ok=True)
    handler = logging.FileHandler(os.path.join(folder, _agent_name() + ".log.txt"), encoding="utf-8")
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    logger.addHandler(handler)
    _STATE["logger"] = logger
    return logger


class EntryScript:
    """What an entry script may ask the service about its process; every instance shares one logger."""

    @property
    def logger(self):
        """The entry script's logger: its lines go to user/entry_script_log/<node>/processNNN.log.txt."""
        return _logger()

    @property
    def log_dir(self):
        """A folder for the script's own log files: logs/user/entry_script_log/<node>."""
        folder = _node_log_dir()
        os.makedirs(folder, exist_ok=True)
        return folder

    @property
    def output_dir(self):
        """The folder of the job's output (AZUREML_BI_OUTPUT_PATH); the working folder for summary_only."""
        return _env("AZUREML_BI_OUTPUT_PATH") or os.getcwd()

    @property
    def working_dir(self):
        """The folder the worker runs in (where prs_mpi was started)."""
        return os.getcwd()

    @property
    def agent_name(self):
        """This worker process's name in the logs: processNNN (NNN = its rank)."""
        return _agent_name()
