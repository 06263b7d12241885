# Optimization Playground: gunicorn serving app:server, one worker per CPU.
# docker build -t playground . && docker run -p 8050:8050 playground

FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
COPY requirements.txt /tmp/requirements.txt
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir -r /tmp/requirements.txt

FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOST=0.0.0.0 \
    PORT=8050
RUN useradd --create-home --uid 10001 playground
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --chown=10001:10001 app.py gunicorn.conf.py ./
COPY --chown=10001:10001 playground ./playground
COPY --chown=10001:10001 assets ./assets
USER 10001
EXPOSE 8050
HEALTHCHECK --interval=15s --timeout=5s --start-period=90s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '8050') + '/health', timeout=4)"]
CMD ["gunicorn", "-c", "gunicorn.conf.py", "app:server"]
