"""Developer laptop: embedded defaults, DEBUG on."""

from config.env import env_bool

from .base import *  # noqa: F403

DEBUG = env_bool("DEBUG", True)
# The demo logins printed by `make run` use a password only; `PB_REQUIRE_2FA=true make run` turns
# the two-factor requirement on (production always has it on: config.settings.base default).
PB_REQUIRE_2FA = env_bool("PB_REQUIRE_2FA", False)
