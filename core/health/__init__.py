"""Health endpoints for load balancers and monitoring: /healthz (liveness) and /readyz."""
