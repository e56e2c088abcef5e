"""Health checks: checkers, the tri-state judge, heartbeats, services, maintenance, uptime and status pages."""
