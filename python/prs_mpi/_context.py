"""The pipeline being built: components called inside a @pipeline function become its steps."""

_builders = []  # the pipelines being built, innermost last


def add_step(job):
    """Makes a called component a step of the pipeline being built, if any."""
    if _builders:
        _builders[-1].append(job)


class building:
    """with building() as steps: ... collects the components called inside."""

    def __enter__(self):
        self.steps = []
        _builders.append(self.steps)
        return self.steps

    def __exit__(self, *exc):
        _builders.pop()
        return False
