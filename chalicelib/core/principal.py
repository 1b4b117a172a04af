"""Who is calling: what every feature needs to know of the caller, from the authorizer."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    user_id: str
    session_id: str
