"""A stand-in for NVIDIA's pynvml at the NVML boundary: two GPUs with fixed readings.

Put this folder on PYTHONPATH and the real agent takes its GPU path, as on a GPU node.
"""

from types import SimpleNamespace

_GPUS = [
    {"name": "Fake RTX 4090", "util": 87, "used": 12 * 1024**3, "total": 24 * 1024**3, "temp": 71},
    {"name": b"Fake A100", "util": 5, "used": 1 * 1024**3, "total": 80 * 1024**3, "temp": 40},
]


def nvmlInit():
    return None


def nvmlDeviceGetCount():
    return len(_GPUS)


def nvmlDeviceGetHandleByIndex(index):
    return index


def nvmlDeviceGetName(handle):
    return _GPUS[handle]["name"]


def nvmlDeviceGetUtilizationRates(handle):
    return SimpleNamespace(gpu=_GPUS[handle]["util"], memory=0)


def nvmlDeviceGetMemoryInfo(handle):
    g = _GPUS[handle]
    return SimpleNamespace(used=g["used"], total=g["total"], free=g["total"] - g["used"])


def nvmlDeviceGetTemperature(handle, sensor):
    return _GPUS[handle]["temp"]
