"""Entropy: information measures, Huffman codes and decision-tree splits."""
