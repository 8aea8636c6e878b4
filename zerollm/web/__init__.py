"""Static pages served by `zerollm serve` (no CDN: everything ships in the package)."""
