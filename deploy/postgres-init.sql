-- Runs once, when the PostgreSQL volume is first created: the basic-auth app keeps its
-- users and permissions in a database of its own, beside the tracking database.
CREATE DATABASE mlflow_auth OWNER mlflow;
