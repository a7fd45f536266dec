#!/usr/bin/env python3
"""OpenCV reference fixtures for the classic image filters (Microsoft.ML.ConvNet/Vision/ImageFilters.cs).

Runs OpenCV's own functions (filter2D, blur, GaussianBlur, Sobel, Scharr, Laplacian, magnitude) in float64 on real
images: two Fashion-MNIST test images (samples/data/fashion-mnist) and a downscaled crop of the RGB photograph
samples/data/images/chelsea.png, each scaled to [0, 1]. Writes
Microsoft.ML.ConvNet.Tests/Fixtures/filters/opencv_filters.json: per image its CHW float32 pixels, per case the
filter name, border mode and OpenCV's output (CHW, rounded to float32), arrays as base64 little-endian float32.

    apt-get install python3-opencv
    /usr/bin/python3 build/reference/make_filter_fixtures.py
"""
import base64
import gzip
import json
import os

import cv2
import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "Microsoft.ML.ConvNet.Tests", "Fixtures", "filters", "opencv_filters.json")

K = {
    "identity": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
    "edge-diagonal": [[1, 0, -1], [0, 0, 0], [-1, 0, 1]],
    "edge-4": [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
    "edge-8": [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]],
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    "unsharp-mask-5": (np.array([[1, 4, 6, 4, 1], [4, 16, 24, 16, 4], [6, 24, -476, 24, 6], [4, 16, 24, 16, 4], [1, 4, 6, 4, 1]]) * (-1.0 / 256)).tolist(),
    "prewitt-x": [[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]],
    "prewitt-y": [[-1, -1, -1], [0, 0, 0], [1, 1, 1]],
}
BORDERS = {"reflect101": cv2.BORDER_REFLECT_101, "constant": cv2.BORDER_CONSTANT, "replicate": cv2.BORDER_REPLICATE}


def opencv(name, img, border):
    """img: H x W (x C) float64. Each filter through the OpenCV function a user would call."""
    f64 = cv2.CV_64F
    if name in K:
        return cv2.filter2D(img, f64, np.array(K[name], dtype=np.float64), borderType=border)
    if name == "box-blur":
        return cv2.blur(img, (3, 3), borderType=border)
    if name == "gaussian-blur-3":
        return cv2.GaussianBlur(img, (3, 3), 0, borderType=border)
    if name == "gaussian-blur-5":
        return cv2.GaussianBlur(img, (5, 5), 0, borderType=border)
    if name == "sobel-x":
        return cv2.Sobel(img, f64, 1, 0, ksize=3, borderType=border)
    if name == "sobel-y":
        return cv2.Sobel(img, f64, 0, 1, ksize=3, borderType=border)
    if name == "scharr-x":
        return cv2.Scharr(img, f64, 1, 0, borderType=border)
    if name == "scharr-y":
        return cv2.Scharr(img, f64, 0, 1, borderType=border)
    if name == "laplacian":
        return cv2.Laplacian(img, f64, ksize=1, borderType=border)
    if name.endswith("-magnitude"):
        base = name[: -len("-magnitude")]
        return cv2.magnitude(opencv(base + "-x", img, border), opencv(base + "-y", img, border))
    raise KeyError(name)


NAMES = ["identity", "edge-diagonal", "edge-4", "edge-8", "sharpen", "box-blur", "gaussian-blur-3", "gaussian-blur-5",
         "unsharp-mask-5", "sobel-x", "sobel-y", "prewitt-x", "prewitt-y", "scharr-x", "scharr-y", "laplacian",
         "sobel-magnitude", "prewitt-magnitude", "scharr-magnitude"]


def b64(a):
    return base64.b64encode(np.ascontiguousarray(a, dtype="<f4").tobytes()).decode("ascii")


def chw(img):
    return img[None] if img.ndim == 2 else np.transpose(img, (2, 0, 1))


def fashion_images(indices):
    with gzip.open(os.path.join(ROOT, "samples", "data", "fashion-mnist", "t10k-images-idx3-ubyte.gz")) as f:
        data = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 28, 28)
    return [data[i].astype(np.float64) / 255.0 for i in indices]


def main():
    photo = cv2.imread(os.path.join(ROOT, "samples", "data", "images", "chelsea.png"), cv2.IMREAD_COLOR)
    if photo is None:
        raise SystemExit("samples/data/images/chelsea.png is missing")
    photo = cv2.cvtColor(photo, cv2.COLOR_BGR2RGB)
    small = cv2.resize(photo, (48, 32), interpolation=cv2.INTER_AREA)[4:28, 8:40]  # 24 x 32, the cat's face
    f0, f1 = fashion_images([0, 1])
    images = {
        "fashion-0": (f0, NAMES, ["constant", "replicate"]),
        "fashion-1": (f1, ["sobel-x", "gaussian-blur-5", "laplacian", "scharr-magnitude"], []),
        "chelsea-rgb": (small.astype(np.float64) / 255.0, NAMES, ["constant", "replicate"]),
    }
    border_cases = ["sobel-x", "gaussian-blur-5", "laplacian"]
    doc = {"source": "OpenCV " + cv2.__version__, "images": []}
    count = 0
    for name, (img, names, borders) in images.items():
        entry = {"name": name, "shape": list(chw(img).shape), "pixels": b64(chw(img)), "cases": []}
        for f in names:
            entry["cases"].append({"filter": f, "border": "reflect101", "output": b64(chw(opencv(f, img, BORDERS["reflect101"])))})
        for border in borders:
            for f in border_cases:
                entry["cases"].append({"filter": f, "border": border, "output": b64(chw(opencv(f, img, BORDERS[border])))})
        count += len(entry["cases"])
        doc["images"].append(entry)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(doc, f, indent=0)
        f.write("\n")
    print(f"{count} cases, {os.path.getsize(OUT)} bytes -> {os.path.relpath(OUT, ROOT)}")


if __name__ == "__main__":
    main()
