# The tracking server image: MLflow with the PostgreSQL and MySQL drivers, the S3
# client and the basic-auth extra, pinned to the versions this repository is tested
# with. Compose builds it (deploy/docker-compose.yml); on AWS it is pushed to the ECR
# repository of deploy/aws/self-hosted. It runs as an unprivileged user.
FROM python:3.11-slim
RUN pip install --no-cache-dir \
        mlflow==3.17.2 \
        psycopg2-binary==2.9.13 \
        PyMySQL==1.2.4 \
        boto3==1.44.5 \
        Flask-WTF==1.3.0 \
    && useradd --create-home --uid 10001 mlflow \
    && mkdir -p /mlflow /opt/team/deploy \
    && chown mlflow:mlflow /mlflow
# The login guard, the auth configuration writer both servers use, and the auth
# database creator the AWS migration task runs.
COPY __init__.py auth_config.py auth_database.py server_guard.py /opt/team/deploy/
ENV PYTHONPATH=/opt/team
WORKDIR /mlflow
USER mlflow
EXPOSE 5000 5500
# Compose and ECS each give the port their own check; this one serves `docker run`.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=12 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('MLFLOW_PORT', '5000') + '/health', timeout=3)"
