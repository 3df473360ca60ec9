"""The production settings (config.settings), with static files collected to a scratch
directory: with DEBUG=false, whitenoise's manifest storage needs `collectstatic` to have
run, and the benchmarks must not write into the checkout's `staticfiles/`."""

from config.settings import *  # noqa: F403
from config.settings import STATIC_ROOT, Path, env

STATIC_ROOT = Path(env("BENCH_STATIC_ROOT", str(STATIC_ROOT)))
