"""gunicorn settings for the web unit (deploy/systemd/partybuilding-web.service).

Workers from cores (2 × cores + 1, capped), timeouts above the longest request the app serves
synchronously (an XLSX export of a large subtree; imports and reports run in Celery), graceful
reload on SIGHUP (`systemctl reload partybuilding-web`).
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8001")
workers = int(os.environ.get("GUNICORN_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 12)))
worker_class = "sync"
# The longest synchronous request (a drill-down export of a province) stays well under this;
# nginx's proxy_read_timeout (deploy/nginx/partybuilding.conf) is set just above it.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 120))
graceful_timeout = 30
keepalive = 5
max_requests = 2000  # recycle workers to bound memory growth
max_requests_jitter = 200
# Uploads are at most DATA_UPLOAD_MAX_MEMORY_SIZE / PB_ATTACHMENT_MAX_BYTES (10 MB); nginx caps the body.
limit_request_line = 8190
forwarded_allow_ips = "127.0.0.1"
accesslog = "-"
errorlog = "-"
# One line per request; the app's own JSON request log carries the request id and user.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}o)s'
preload_app = False  # workers import the app themselves, so `reload` picks up new code
