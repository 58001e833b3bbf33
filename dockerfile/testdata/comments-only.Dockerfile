# syntax=docker/dockerfile:1
# Nothing to see here.

