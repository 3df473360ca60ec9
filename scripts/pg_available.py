"""Exit 0 when the PostgreSQL server of the given URL accepts connections, 1 otherwise."""

import sys

import psycopg


def main(url: str) -> int:
    # Connect to the maintenance database: the test run creates its own.
    conninfo = psycopg.conninfo.conninfo_to_dict(url) | {"dbname": "postgres", "connect_timeout": 3}
    try:
        psycopg.connect(**conninfo).close()
    except psycopg.OperationalError:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
