"""Muon's fp32 Newton-Schulz (for CPUs that emulate bf16) against the library's own bf16 one."""

import torch

from zerollm.pretrain import optim


def test_fp32_orthogonalisation_matches_the_library_and_leaves_it_unpatched():
    from torch.optim import _muon

    torch.manual_seed(0)
    library = _muon._zeropower_via_newtonschulz
    coeffs = (_muon.DEFAULT_A, _muon.DEFAULT_B, _muon.DEFAULT_C)
    for shape in ((48, 16), (16, 48)):
        g = torch.randn(*shape)
        ours, theirs = optim.orthogonalise_fp32(g, coeffs, 5, 1e-7), library(g, coeffs, 5, 1e-7).float()
        assert ours.shape == g.shape and ours.dtype == torch.float32
        assert torch.allclose(ours, theirs, atol=0.03), (ours - theirs).abs().max()
        sv = torch.linalg.svdvals(ours)  # orthogonalised: singular values near 1, as the library's
        assert sv.min() > 0.5 and sv.max() < 1.5

    w0 = torch.randn(32, 16)
    w1, w2 = torch.nn.Parameter(w0.clone()), torch.nn.Parameter(w0.clone())
    a, b = optim.Fp32Muon([w1], lr=0.02), torch.optim.Muon([w2], lr=0.02)
    grad = torch.randn(32, 16)
    w1.grad, w2.grad = grad.clone(), grad.clone()
    a.step()
    b.step()
    assert _muon._zeropower_via_newtonschulz is library  # restored after the step
    ours, theirs = (w1 - w0).detach(), (w2 - w0).detach()
    assert ours.abs().max() > 1e-3 and torch.allclose(ours, theirs, atol=0.03 * 0.02)
