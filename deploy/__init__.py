"""The team tracking stack: a Docker Compose file for machines with Docker, and a
Docker-free loopback stack (``python -m deploy.stack``) with its maintenance commands."""
