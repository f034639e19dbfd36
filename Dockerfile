# willump serve in a container: the model repository is a volume at /models.
#   docker build -t willump-serve .
#   docker run --rm -p 127.0.0.1:8080:8080 -v "$PWD/models:/models:ro" willump-serve
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# The package (not editable) with the serve extra; the sources are not kept in the image.
COPY pyproject.toml README.md /src/
COPY willump_mlir /src/willump_mlir
COPY dialects /src/dialects
COPY passes /src/passes
COPY tools /src/tools
RUN pip install "/src[serve]" && rm -rf /src

# A non-root user; pipelines loaded from the repository are compiled into its object cache.
RUN useradd --create-home --uid 10001 willump
USER willump
WORKDIR /home/willump
ENV WILLUMP_MLIR_CACHE_DIR=/home/willump/.cache/willump-mlir

VOLUME ["/models"]
EXPOSE 8080
# python is the one HTTP client the slim image has; a non-200 answer raises, so exit 1.
HEALTHCHECK --interval=10s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/v2/health/ready', timeout=4)"]
CMD ["willump", "serve", "/models", "--host", "0.0.0.0", "--port", "8080"]
