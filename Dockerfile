# Optimization Playground: gunicorn serving playground.web.server:server, one worker per CPU.
# docker build -t playground . && docker run -p 8050:8050 playground

FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
COPY requirements.txt /src/requirements.txt
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir -r /src/requirements.txt
COPY pyproject.toml README.md /src/
COPY playground /src/playground
COPY assets /src/assets
# Install the app, then compile its engine into JAX's persistent cache inside the image:
# every container start and every recycled worker loads it instead of compiling.
RUN /opt/venv/bin/pip install --no-cache-dir --no-deps /src \
    && /opt/venv/bin/playground compile --cache-dir /opt/jax-cache

FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    JAX_COMPILATION_CACHE_DIR=/opt/jax-cache \
    HOST=0.0.0.0 \
    PORT=8050
RUN useradd --create-home --uid 10001 playground
COPY --from=build /opt/venv /opt/venv
COPY --from=build /opt/jax-cache /opt/jax-cache
WORKDIR /home/playground
USER 10001
EXPOSE 8050
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '8050') + '/health', timeout=4)"]
CMD ["gunicorn", "-c", "python:playground.web.gunicorn_conf", "playground.web.server:server"]
