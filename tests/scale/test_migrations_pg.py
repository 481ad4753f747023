"""The Alembic migrations on PostgreSQL: head matches the models, every step goes down and up again,
and replicas that start together against a fresh database migrate it once, without a race."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from assistant.db import _MIGRATIONS, Database
from assistant.models import Base
from tests.conftest import REPO
from tests.scale.conftest import fresh_database


def _config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def _tables(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def test_upgrade_head_matches_the_models_and_every_step_round_trips() -> None:
    with fresh_database() as url:
        cfg = _config(url)
        head = ScriptDirectory.from_config(cfg).get_current_head()
        db = Database(url)  # what every replica does at start-up: upgrade to head
        try:
            assert db.engine.dialect.name == "postgresql"
            with db.engine.connect() as conn:
                assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
                assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one() == head
                conn.execute(
                    sa.text(
                        "INSERT INTO sessions (id, created_at, updated_at, channel, state, turn_count, "
                        "handoff, version) VALUES ('s1', now(), now(), 'web', '{}', 0, false, 0)"
                    )
                )
                conn.commit()
            assert set(Base.metadata.tables) <= _tables(db.engine)

            revisions = [r.revision for r in ScriptDirectory.from_config(cfg).walk_revisions()]  # head first
            for rev in revisions:  # one step down, one step up, then the next step down
                command.downgrade(cfg, "-1")
                command.upgrade(cfg, rev)
                command.downgrade(cfg, "-1")
            assert _tables(db.engine) == {"alembic_version"}

            command.upgrade(cfg, "head")
            with db.engine.connect() as conn:
                assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
                assert conn.execute(sa.text("SELECT count(*) FROM sessions")).scalar_one() == 0
            Database(url).dispose()  # upgrading a database at head again is a no-op
        finally:
            db.dispose()


_MIGRATE_AT = textwrap.dedent(
    """
    import sys, time
    from assistant.db import Database
    url, at = sys.argv[1], float(sys.argv[2])
    time.sleep(max(0.0, at - time.time()))
    Database(url).dispose()
    """
)


def test_replicas_starting_together_migrate_a_fresh_database_once() -> None:
    with fresh_database() as url:
        at = time.time() + 4  # both processes have imported by then and start migrating together
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", _MIGRATE_AT, url, str(at)],
                cwd=REPO,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        results = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in procs]
        for p in procs:
            for stream in (p.stdout, p.stderr):
                if stream:
                    stream.close()
        assert [rc for rc, _ in results] == [0, 0], [err[-1500:] for _, err in results]
        engine = sa.create_engine(url, poolclass=sa.NullPool)
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        engine.dispose()
