# syntax=docker/dockerfile:1
FROM ubuntu:24.04
RUN <<EOT
set -eux
apt-get update
apt-get install -y curl
EOT
COPY <<-EOF /etc/app/config.toml
	listen = ":8080"
	EOF
RUN <<A cat > /a && <<B cat > /b
alpha
A
beta
B
CMD ["sleep", "infinity"]
