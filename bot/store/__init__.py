"""Storage: the answer log, the event inbox, reviewer accounts, approved answers and rate limits.

SQLite (WAL) under the data dir by default; PostgreSQL through `DATABASE_URL`. Schema by Alembic.
"""
