"""A RunPod-compatible Serverless endpoint emulator, served over real HTTP. Qt-free."""
