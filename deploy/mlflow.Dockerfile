# The tracking server image: MLflow with the PostgreSQL driver, the S3 client and the
# basic-auth extra, pinned to the versions this repository is tested with.
FROM python:3.11-slim
RUN pip install --no-cache-dir \
        mlflow==3.17.2 \
        psycopg2-binary==2.9.13 \
        boto3==1.44.5 \
        Flask-WTF==1.3.0 \
    && mkdir -p /mlflow /opt/team/deploy
# The login guard and the auth configuration writer both servers use.
COPY __init__.py auth_config.py server_guard.py /opt/team/deploy/
ENV PYTHONPATH=/opt/team
WORKDIR /mlflow
EXPOSE 5000
