"""Scraping: scrape configs, service discovery, relabeling, the scrape loop and staleness."""
