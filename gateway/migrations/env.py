"""Alembic environment: runs against the URL given by gateway.migrations.alembic_config."""

from __future__ import annotations

from alembic import context

from gateway.db import Base, create_engine

config = context.config


def _target_metadata():  # imported lazily: table modules are only needed for autogenerate
    from gateway.migrations import import_table_modules

    import_table_modules()
    return Base.metadata


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    engine = create_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=_target_metadata(),
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
