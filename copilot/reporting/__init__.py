"""Reads of the Copilot tables for the page, the CSV and the API; Plotly figures."""
