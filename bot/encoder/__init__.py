"""The sentence encoder (all-MiniLM-L6-v2) in numpy or ONNX Runtime, from weights a pinned
package ships; the NLU pipeline and the answer reader both use it."""
