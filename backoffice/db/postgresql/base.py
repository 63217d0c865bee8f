"""PostgreSQL, with a health check that costs no round trip while the connection is sound.

Django's check (CONN_HEALTH_CHECKS) sends `SELECT 1` before the first query of every
request: a whole round trip, about a tenth of a kept API page. A server that ends a
connection (restart, fail-over, idle timeout, pg_terminate_backend) closes its socket, most
often after a FATAL message; either makes the idle socket readable. A sound idle connection
has nothing to read, so only a readable one pays for Django's query.

Every new connection also asks backoffice.db_credentials for its password: with IAM database
authentication (CREDENTIALS = "iam") a token minted for that connection, so a rotated
credential never strands the app.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base

from backoffice import db_credentials


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self) -> dict:
        return db_credentials.connection_params(self.settings_dict, super().get_connection_params())

    def is_usable(self) -> bool:
        if self.connection is None or self.connection.closed or self.connection.broken:
            return False
        try:
            readable, _, _ = select.select([self.connection.fileno()], [], [], 0)
        except (OSError, ValueError):
            return False
        return not readable or super().is_usable()
