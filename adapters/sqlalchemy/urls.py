from sqlalchemy.engine import URL, make_url


def sqlalchemy_url(url: str) -> URL:
    """Accept libpq-style `postgresql://` URLs and pin the psycopg 3 driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg"):
        return parsed.set(drivername="postgresql+psycopg")
    raise ValueError(f"unsupported database URL scheme {parsed.drivername!r}; use postgresql://")


def redacted(url: str) -> str:
    """For logs and messages: never print a password."""
    return sqlalchemy_url(url).render_as_string(hide_password=True)
