FROM alpine
RUN true
RUNN echo typo
