"""Thin PTB callbacks: parse arguments, call the domain, render, reply."""
