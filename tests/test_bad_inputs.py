"Bad input across the library and the CLI: each gets the error type it should, with a message that names the problem."
import os, subprocess, sys
from pathlib import Path
import numpy as np
import pandas as pd
import pytest
import torch

from cellfluxmm.core import Config, ConfigError, get_device
from cellfluxmm.data import IMAGE_OBS_COLUMNS, PackedStore, PairDataset, SplitConfig, StoreWriter
from cellfluxmm.autoencoders import GeneAEConfig, GeneAutoencoder, ImageAutoencoder, encode_images, train_gene_autoencoder
from cellfluxmm.sit import JointSiT, sit_config
from cellfluxmm.synthetic import simulate, SimConfig

@pytest.fixture(scope='module')
def store(tmp_path_factory):
    return simulate('smoke', tmp_path_factory.mktemp('s')/'store', progress=False)

def write_images(tmp, x):
    with StoreWriter(tmp/'w', len(x), x.shape[-2:], 'test') as w: w.write_images(0, x)

def test_wrong_channel_count(tmp_path):
    with pytest.raises(ValueError, match=r'images must be \(k, 5, 8, 8\)'): write_images(tmp_path, np.zeros((2, 4, 8, 8), np.uint16))
    with pytest.raises(ValueError, match=r'images must be \(B, 5, H, W\)'): encode_images(ImageAutoencoder.small(), torch.zeros(1, 3, 32, 32))

def test_wrong_dtype(tmp_path):
    with pytest.raises(TypeError, match='uint16, got float32'): write_images(tmp_path, np.zeros((2, 5, 8, 8), np.float32))
    assert not (tmp_path/'w').exists()   # nothing half-written

def test_nan_in_profiles(store):
    g = np.asarray(store.genes).copy(); g[3, 5] = np.nan
    with pytest.raises(ValueError, match='training profiles hold NaN'): train_gene_autoencoder(g, g[:4], store.gene_symbols)

def test_nan_in_images():
    ae = ImageAutoencoder.small()
    x = torch.zeros(1, 5, 32, 32); x[0, 2, 3, 3] = float('nan')
    with pytest.raises(ValueError, match='NaN'): encode_images(ae, x)

def test_empty_dataset(tmp_path, store):
    with pytest.raises(ValueError, match='n_images must be >= 0'): StoreWriter(tmp_path/'e', -1, (8, 8), 'test')
    # no images is a store of L1000 profiles alone; with no treated profile to pair either, it is empty and refused
    gene_obs = pd.DataFrame({'plate': ['P'], 'well': ['A01'], 'compound_id': ['DMSO'], 'dose': [0.0], 'is_control': [True]})
    with pytest.raises(ValueError, match='no usable pairs'):
        with StoreWriter(tmp_path/'e', 0, (0, 0), 'test') as w:
            w.finish(pd.DataFrame(columns=list(IMAGE_OBS_COLUMNS)), np.zeros((1, 2)), gene_obs,
                     pd.DataFrame({'symbol': ['A', 'B'], 'probe_id': ['a', 'b']}),
                     pd.DataFrame({'compound_id': ['c1'], 'name': [''], 'smiles': [None], 'moa': [None]}), SplitConfig(n_test=1, n_val=0))
    assert not (tmp_path/'e').exists()
    with pytest.raises(ValueError, match="split 'holdout' has no pairs"): PairDataset(store, 'holdout')

def test_unknown_perturbation_at_sampling():
    m = JointSiT(sit_config('tiny', image_channels=20, image_size=8, gene_tokens=2, gene_token_dim=4, n_perturbations=3)).eval()
    with pytest.raises(IndexError, match=r'perturbation index 7 is not in \[0, 3\)'):
        m({'image': torch.zeros(1, 20, 8, 8), 'gene': torch.zeros(1, 8)}, torch.zeros(1), torch.tensor([7]))

def test_gene_list_differs(store):
    ae = GeneAutoencoder(GeneAEConfig(genes=tuple(store.gene_symbols)))
    with pytest.raises(ValueError, match='differ from the 978'): ae.check_genes(store.gene_symbols[:-1] + ['XYZ'])

def test_unknown_config_key():
    with pytest.raises(ConfigError, match=r"unknown key\(s\) \['n_compund'\]"): SimConfig.from_dict({'n_compund': 3})

def test_missing_file():
    with pytest.raises(FileNotFoundError, match='does not exist'): PackedStore('/no/such/store')

def test_cuda_where_none():
    if torch.cuda.is_available(): pytest.skip('this machine has a GPU')
    with pytest.raises(RuntimeError, match='no CUDA GPU'): get_device('cuda')

def test_cli_reports_one_line(tmp_path):
    exe = Path(sys.executable).parent/'cellfluxmm'
    r = subprocess.run([exe, 'reproduce', '--preset', 'paper', '--data', tmp_path/'none'], capture_output=True, text=True)
    assert r.returncode == 2 and 'cellfluxmm data build' in r.stderr and 'Traceback' not in r.stderr
    r = subprocess.run([exe, 'reproduce', '--preset', 'smoke', '--variants', 'full,nope', '--data', tmp_path/'d'], capture_output=True, text=True)
    assert r.returncode == 2 and "unknown variant(s) ['nope']" in r.stderr


@pytest.mark.parametrize('command', [['infer', '--observed-image-rows', '0'], ['screen', '--reference', 'X'],
                                     ['predict', '--compound', 'X']])
def test_an_output_that_cannot_be_written_is_refused_before_any_work(tmp_path, command):
    "`--out` that is a folder (infer, screen) or a file (predict): one `error:` line, exit 2, before the run is even read."
    from conftest import inproc
    (tmp_path/'file.txt').write_text('x')
    out = tmp_path/'file.txt' if command[0] == 'predict' else tmp_path
    r = inproc(*command, '--run', tmp_path/'no-run', '--out', out)
    assert r.returncode == 2 and r.stderr.startswith('error: --out') and len(r.stderr.strip().splitlines()) == 1, r.stderr
