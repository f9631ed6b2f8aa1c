"""Reenactment backends: landmark transformers, reenactors, mixers."""
