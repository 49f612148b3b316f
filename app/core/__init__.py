"""What every capability uses: htmx rendering, money, time, security headers, error pages. No routes."""
