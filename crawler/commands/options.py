"""Click option types shared by newsmon's commands."""

from __future__ import annotations

import click


class DurationType(click.ParamType):
    """A duration such as ``30m``, ``24h``, ``7d`` → :class:`datetime.timedelta`."""

    name = "duration"

    def convert(self, value, param, ctx):
        from datetime import timedelta

        from crawler.config import ConfigError, parse_duration

        if isinstance(value, timedelta):
            return value
        try:
            return parse_duration(value, key=param.opts[0] if param else "duration")
        except ConfigError as exc:
            self.fail(str(exc), param, ctx)


DURATION = DurationType()


def duration_option(*names, **kwargs):
    """A ``--since``-style option taking a duration."""
    kwargs.setdefault("type", DURATION)
    kwargs.setdefault("default", None)
    kwargs.setdefault("metavar", "DURATION")
    return click.option(*names, **kwargs)
