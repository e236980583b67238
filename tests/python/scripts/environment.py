"""Records sys.argv and sys.path as seen at import time; a dataclass that must pickle (needs sys.modules)."""
import dataclasses
import pickle
import sys

SEEN_ARGV = list(sys.argv)
SEEN_PATH0 = sys.path[0]


@dataclasses.dataclass
class Item:
    path: str


def run(mini_batch):
    items = [pickle.loads(pickle.dumps(Item(path))) for path in mini_batch]
    return [item.path for item in items] + [" ".join(sys.argv[1:])]
