"""Alembic environment: the engine is handed over by data_layer.db (no alembic.ini needed)."""
from alembic import context

from data_layer.comment_search import include_name
from data_layer.db import make_engine
from data_layer.models import Base

config = context.config
engine = config.attributes.get("engine") or make_engine()

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite needs batch mode to alter tables
        compare_type=True,
        include_name=include_name,  # the comment search indexes are not in the models (data_layer/comment_search.py)
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
