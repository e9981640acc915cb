"""Exports to hand on: villages, buildings, installations, outages, classes as CSV or XLSX."""
