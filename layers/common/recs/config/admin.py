"""Settings of the admin function (the merchandising rules' routes)."""

from __future__ import annotations

from pydantic import Field

from recs.config.common import FunctionSettings


class AdminSettings(FunctionSettings):
    state_table_name: str = Field(min_length=3, description="Where the rules and their audit live.")
