"""Text forms that several sub-domains check, defined once.

An estate's id is one form in a register and in a note series' terms. An actor's name is one
form wherever a payload names an actor (an admin, a creditor, a trader, a fee owner, a holding
entity); a SHA-256 digest or HMAC-SHA-256 commitment is 64 lower-case hex
digits wherever it is carried (a document, a register, an e-mail or beneficiary commitment).

Imports nothing of the core.
"""

from __future__ import annotations

import re
from typing import Final

#: The name of an actor of the log (``actor.registered``): what every payload naming one
#: matches.
ACTOR_NAME_RE: Final = re.compile(r"[a-z0-9][a-z0-9._-]{0,62}")
#: An estate's id (a claims register's ``estate_id``): what the claims and the note series
#: that converts them both accept, so that every estate a register can name can have a series.
ESTATE_ID_RE: Final = re.compile(r"[a-z0-9][a-z0-9._-]{0,62}")
#: A SHA-256 digest or an HMAC-SHA-256 commitment, as lower-case hex.
HEX64_RE: Final = re.compile(r"[0-9a-f]{64}")
