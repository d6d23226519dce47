#!/usr/bin/python3
"""make_golden.py — regenerate the front-end golden data (tests/golden/frontend/).

Run from anywhere with Debian's Python (torch + torchaudio + numpy):
    /usr/bin/python3 tests/golden/frontend/make_golden.py

Writes, next to this script:
  signal.wav            1.3 s, 16 kHz, 16-bit mono: 50 ms of silence, then a linear chirp
                        100 Hz -> 7 kHz, a 1 kHz tone from 0.5 s, and white noise (seeded)
  stereo.wav            the same as channel 0, a 3 kHz tone + other noise as channel 1
  <name>.yaml           one front-end configuration (the `frontend:` section of a config)
  <name>.npy            torch/torchaudio features of signal.wav, float32 [1, n_mels, frames]
  <name>_fb.npy         (some configs) torchaudio.functional.melscale_fbanks, float32
                        [n_freqs, n_mels]
  stereo_c01.npy        features of stereo.wav with c01's config, float32 [2, n_mels, frames]

Everything is computed in float64 from the 16-bit samples as libsndfile reads them
(int16 / 32768), then stored as float32. The semantics are those of core/frontend.h:
torch.stft (periodic Hann of win_length centred in n_fft), |X|^power, S @ melscale_fbanks,
then log / db / pcen / none. PCEN has no torchaudio op; it is written out below from the
formula in frontend.h.
"""
import os
import wave

import numpy as np
import torch
import torchaudio

HERE = os.path.dirname(os.path.abspath(__file__))
SR = 16000
N = int(1.3 * SR)

torch.set_default_dtype(torch.float64)  # melscale_fbanks builds its axes in the default dtype

# name: (frontend params, export fb?)
CONFIGS = {
    "c01_log_default": (dict(n_fft=1024, hop_length=300, win_length=1024, center=True,
                             pad_mode="reflect", power=2.0, n_mels=64, fmin=0.0, fmax=8000.0,
                             scale="slaney", norm="slaney", comp="log", eps=1e-6), True),
    "c02_db_htk_nonorm": (dict(n_fft=512, hop_length=128, win_length=400, center=True,
                               pad_mode="constant", power=2.0, n_mels=40, fmin=50.0,
                               fmax=7000.0, scale="htk", norm=None, comp="db", amin=1e-10), True),
    "c03_pcen": (dict(n_fft=1024, hop_length=300, win_length=1024, center=True,
                      pad_mode="reflect", power=2.0, n_mels=64, fmin=20.0, fmax=4000.0,
                      scale="slaney", norm="slaney", comp="pcen", eps=1e-6, alpha=0.98,
                      delta=2.0, r=0.5, time_constant=0.4), False),
    "c04_none_nocenter": (dict(n_fft=256, hop_length=64, win_length=256, center=False,
                               pad_mode="reflect", power=1.0, n_mels=32, fmin=0.0, fmax=0.0,
                               scale="htk", norm="slaney", comp="none"), True),
    "c05_log_2048": (dict(n_fft=2048, hop_length=512, win_length=1500, center=True,
                          pad_mode="reflect", power=2.0, n_mels=128, fmin=20.0, fmax=0.0,
                          scale="slaney", norm=None, comp="log", eps=1e-6), False),
    "c06_db_power1": (dict(n_fft=512, hop_length=160, win_length=512, center=False,
                           pad_mode="constant", power=1.0, n_mels=48, fmin=0.0, fmax=8000.0,
                           scale="slaney", norm="slaney", comp="db", amin=1e-5), False),
    "c07_pcen_htk": (dict(n_fft=256, hop_length=64, win_length=200, center=True,
                          pad_mode="constant", power=1.0, n_mels=24, fmin=100.0, fmax=6000.0,
                          scale="htk", norm=None, comp="pcen", eps=1e-6, alpha=0.8, delta=10.0,
                          r=0.25, time_constant=0.06), False),
    "c08_log_odd": (dict(n_fft=1024, hop_length=333, win_length=800, center=True,
                         pad_mode="reflect", power=1.5, n_mels=50, fmin=0.0, fmax=7500.0,
                         scale="htk", norm="slaney", comp="log", eps=1e-3), False),
    "c09_log_400": (dict(n_fft=400, hop_length=160, win_length=400, center=True,
                         pad_mode="constant", power=2.0, n_mels=80, fmin=0.0, fmax=8000.0,
                         scale="slaney", norm="slaney", comp="log", eps=1e-10), False),
}


def write_wav(path, chans):
    pcm = np.stack(chans, axis=1)  # [frames, channels] int16
    with wave.open(path, "wb") as w:
        w.setnchannels(pcm.shape[1])
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes(pcm.astype("<i2").tobytes())


def quantize(x):
    return np.clip(np.round(x * 32768.0), -32768, 32767).astype(np.int16)


def make_signals():
    t = np.arange(N) / SR
    T = N / SR
    f0, f1 = 100.0, 7000.0
    chirp = 0.3 * np.sin(2 * np.pi * (f0 * t + (f1 - f0) * t * t / (2 * T)))
    tone = 0.2 * np.sin(2 * np.pi * 1000.0 * t) * (t >= 0.5)
    noise = 0.02 * np.random.RandomState(1234).randn(N)
    x = chirp + tone + noise
    x[: int(0.05 * SR)] = 0.0  # leading silence: exact zeros through the whole pipeline
    y = 0.25 * np.sin(2 * np.pi * 3000.0 * t) + 0.05 * np.random.RandomState(99).randn(N)
    return quantize(x), quantize(y)


def features(x, p):
    """x: float64 samples; returns float64 [n_mels, frames] and the fb matrix."""
    n_fft, hop, win = p["n_fft"], p["hop_length"], p["win_length"]
    window = torch.hann_window(win, periodic=True, dtype=torch.float64)
    X = torch.stft(torch.from_numpy(x), n_fft, hop_length=hop, win_length=win, window=window,
                   center=p["center"], pad_mode=p["pad_mode"], normalized=False, onesided=True,
                   return_complex=True)
    S = X.abs().pow(p["power"])  # [n_freqs, frames]
    fmax = p["fmax"] if p["fmax"] > 0 else SR / 2
    fb = torchaudio.functional.melscale_fbanks(n_fft // 2 + 1, p["fmin"], fmax, p["n_mels"], SR,
                                               p["norm"], p["scale"])
    M = (S.T @ fb).numpy()  # [frames, n_mels]
    c = p["comp"]
    if c == "log":
        out = np.log(M + p["eps"])
    elif c == "db":
        out = 10.0 * np.log10(np.maximum(M, p["amin"]))
    elif c == "pcen":
        Tc = p["time_constant"] * SR / hop
        b = (np.sqrt(1 + 4 * Tc * Tc) - 1) / (2 * Tc * Tc)
        sm = np.empty_like(M)
        sm[0] = M[0]
        for i in range(1, M.shape[0]):
            sm[i] = (1 - b) * sm[i - 1] + b * M[i]
        out = (M / (p["eps"] + sm) ** p["alpha"] + p["delta"]) ** p["r"] - p["delta"] ** p["r"]
    else:
        out = M
    return out.T, fb.numpy()


def num(v):
    """A YAML float that every YAML 1.1/1.2 reader takes as a float: 1.0e-06, not 1e-06."""
    r = repr(float(v))
    if "e" in r and "." not in r.split("e")[0]:
        m, e = r.split("e")
        r = m + ".0e" + e
    return r


def yaml_of(name, p):
    lines = [f"# {name}: golden front-end configuration (made by make_golden.py)",
             "frontend:",
             f"  sample_rate: {SR}",
             f"  n_fft: {p['n_fft']}",
             f"  win_length: {p['win_length']}",
             f"  hop_length: {p['hop_length']}",
             f"  center: {'true' if p['center'] else 'false'}",
             f"  pad_mode: {p['pad_mode']}",
             f"  power: {num(p['power'])}",
             "  mel:",
             f"    n_mels: {p['n_mels']}",
             f"    fmin: {num(p['fmin'])}",
             f"    fmax: {num(p['fmax'])}",
             f"    scale: {p['scale']}",
             f"    norm: {p['norm'] or 'none'}",
             "  compression:",
             f"    type: {p['comp']}"]
    for k in ("eps", "amin", "alpha", "delta", "r", "time_constant"):
        if k in p:
            lines.append(f"    {k}: {num(p[k])}")
    return "\n".join(lines) + "\n"


def main():
    x16, y16 = make_signals()
    write_wav(os.path.join(HERE, "signal.wav"), [x16])
    write_wav(os.path.join(HERE, "stereo.wav"), [x16, y16])
    x = x16.astype(np.float64) / 32768.0
    y = y16.astype(np.float64) / 32768.0
    for name, (p, export_fb) in CONFIGS.items():
        feats, fb = features(x, p)
        np.save(os.path.join(HERE, name + ".npy"), np.ascontiguousarray(feats[None], dtype=np.float32))
        if export_fb:
            np.save(os.path.join(HERE, name + "_fb.npy"), np.ascontiguousarray(fb, dtype=np.float32))
        with open(os.path.join(HERE, name + ".yaml"), "w") as f:
            f.write(yaml_of(name, p))
        print(f"{name}: {feats.shape[1]} frames x {feats.shape[0]} mels, "
              f"range {feats.min():.4g}..{feats.max():.4g}")
    p = CONFIGS["c01_log_default"][0]
    st = np.stack([features(x, p)[0], features(y, p)[0]])
    np.save(os.path.join(HERE, "stereo_c01.npy"), np.ascontiguousarray(st, dtype=np.float32))
    print("stereo_c01:", st.shape)


if __name__ == "__main__":
    main()
