//! Modern recurrent networks (`book/chapter_recurrent-modern`): the scratch LSTM and GRU agree
//! with burn's layers on the same weights, stacks and bidirectional layers have the documented
//! shapes and states, the English-French pipeline (zip archive, preprocessing, `<pad>` /
//! `<bos>` / `<eos>`, truncation and padding, valid lengths, minibatches) works on a small file
//! in the real format, the masked loss ignores padding, BLEU matches hand-computed values, and
//! beam search with beam size 1 is greedy search.

use std::io::Write;

use burn::module::Param;
use burn::tensor::Distribution;
use d2l::prelude::*;

fn max_abs_diff<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> f32 {
    (a - b).abs().max().into_scalar::<f32>()
}

fn normal<const D: usize>(shape: [usize; D]) -> Tensor<D> {
    Tensor::random(shape, Distribution::Normal(0.0, 1.0), &d2l::device())
}

/// The affine map of one of burn's gates as a scratch gate: burn keeps a bias in each of the
/// input and hidden maps; they add up.
fn scratch_gate(gate: &nn::GateController) -> GateScratch {
    let bias = |linear: &nn::Linear| linear.bias.as_ref().map(|b| b.val()).unwrap();
    GateScratch {
        w_x: Param::from_tensor(gate.input_transform.weight.val()),
        w_h: Param::from_tensor(gate.hidden_transform.weight.val()),
        b: Param::from_tensor(bias(&gate.input_transform) + bias(&gate.hidden_transform)),
    }
}

#[test]
fn scratch_lstm_agrees_with_burns_lstm_on_the_same_weights() {
    let (num_inputs, num_hiddens, num_steps, batch_size) = (5, 7, 9, 3);
    let concise = Lstm::new(num_inputs, num_hiddens, &d2l::device());
    let lstm = &concise.lstm;
    let scratch = LstmScratch {
        input_gate: scratch_gate(&lstm.input_gate),
        forget_gate: scratch_gate(lstm.forget_gate.as_ref().unwrap()),
        output_gate: scratch_gate(&lstm.output_gate),
        input_node: scratch_gate(&lstm.cell_gate),
        num_hiddens,
    };
    let inputs = normal([num_steps, batch_size, num_inputs]);
    let state = (normal([batch_size, num_hiddens]), normal([batch_size, num_hiddens]));
    let (outputs, (h, c)) = scratch.forward(inputs.clone(), Some(state.clone()));
    let (expected, (expected_h, expected_c)) = concise.forward(inputs.clone(), Some(state));
    assert_eq!(expected.dims(), [num_steps, batch_size, num_hiddens]);
    assert!(max_abs_diff(outputs, expected) < 1e-5);
    assert!(max_abs_diff(h, expected_h) < 1e-5);
    assert!(max_abs_diff(c, expected_c) < 1e-5);
    // Without a state, both start from zeros.
    let (outputs, _) = scratch.forward(inputs.clone(), None);
    assert!(max_abs_diff(outputs, concise.forward(inputs, None).0) < 1e-5);
}

#[test]
fn scratch_gru_agrees_with_burns_gru_on_the_same_weights() {
    let (num_inputs, num_hiddens, num_steps, batch_size) = (4, 6, 8, 3);
    let concise = Gru::new(num_inputs, num_hiddens, &d2l::device());
    let gru = &concise.gru;
    assert!(!gru.reset_after, "the concise GRU applies the reset gate before the product");
    let scratch = GruScratch {
        reset_gate: scratch_gate(&gru.reset_gate),
        update_gate: scratch_gate(&gru.update_gate),
        candidate: scratch_gate(&gru.new_gate),
        num_hiddens,
    };
    let inputs = normal([num_steps, batch_size, num_inputs]);
    let state = normal([batch_size, num_hiddens]);
    let (outputs, last) = scratch.forward(inputs.clone(), Some(state.clone()));
    let (expected, expected_last) = concise.forward(inputs, Some(state));
    assert_eq!(expected.dims(), [num_steps, batch_size, num_hiddens]);
    assert!(max_abs_diff(outputs, expected) < 1e-5);
    assert!(max_abs_diff(last, expected_last) < 1e-5);
}

#[test]
fn a_stack_feeds_each_layer_the_outputs_of_the_one_below() {
    let device = d2l::device();
    let stack = stacked_rnn_scratch(5, 8, 3, &device);
    let inputs = normal([6, 2, 5]);
    let (outputs, states) = stack.forward(inputs.clone(), None);
    assert_eq!(outputs.dims(), [6, 2, 8]);
    assert_eq!(states.len(), 3);
    // The same as running the layers one after the other by hand (no dropout).
    let mut x = inputs;
    for (layer, state) in stack.layers.iter().zip(&states) {
        let (out, last) = Recurrent::forward(layer, x, None);
        assert!(max_abs_diff(last, state.clone()) < 1e-6);
        x = out;
    }
    assert!(max_abs_diff(x, outputs) < 1e-6);
}

#[test]
fn a_bidirectional_layer_reads_the_sequence_both_ways() {
    let device = d2l::device();
    let layer = || GruScratchConfig::new(3, 4).with_sigma(0.5).init(&device);
    let birnn = BiRnn { f_rnn: layer(), b_rnn: layer() };
    let inputs = normal([5, 2, 3]);
    let (outputs, (_, b_state)) = birnn.forward(inputs.clone(), None);
    assert_eq!(outputs.dims(), [5, 2, 8]);
    let (forward, _) = birnn.f_rnn.forward(inputs.clone(), None);
    assert!(max_abs_diff(outputs.clone().slice(s![.., .., 0..4]), forward) < 1e-6);
    // The backward half at step t is the backward layer after reading steps T-1 down to t.
    let (backward, _) = birnn.b_rnn.forward(inputs.flip([0]), None);
    assert!(max_abs_diff(outputs.clone().slice(s![.., .., 4..]), backward.flip([0])) < 1e-6);
    let first = outputs.slice(s![0..1, .., 4..]).squeeze_dim::<2>(0);
    assert!(max_abs_diff(first, b_state) < 1e-6);
}

#[test]
fn lstm_language_models_carry_their_state_between_calls() {
    let device = d2l::device();
    let model = RecurrentLm::new(LstmScratchConfig::new(10, 16).with_sigma(0.5).init(&device), 10, 1.0, &device);
    let x = Tensor::<2>::random([3, 12], Distribution::Uniform(0.0, 10.0), &device).int();
    let (all, _) = model.forward_state(x.clone(), None);
    assert_eq!(all.dims(), [3, 12, 10]);
    let (first, state) = model.forward_state(x.clone().slice([0..3, 0..5]), None);
    let (rest, _) = model.forward_state(x.slice([0..3, 5..12]), Some(state));
    assert!(max_abs_diff(Tensor::cat(vec![first, rest], 1), all) < 1e-5);
}

/// A zip archive of `entries` (name, content), each stored or deflated, as zip tools write it:
/// local headers and data, then the central directory and its end record.
fn zip_archive(entries: &[(&str, &[u8])], deflate: bool) -> Vec<u8> {
    let (mut out, mut central) = (Vec::new(), Vec::new());
    let u16le = |v: usize| (v as u16).to_le_bytes();
    let u32le = |v: usize| (v as u32).to_le_bytes();
    for (name, content) in entries {
        let data = if deflate {
            let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
            encoder.write_all(content).unwrap();
            encoder.finish().unwrap()
        } else {
            content.to_vec()
        };
        let method = if deflate { 8 } else { 0 };
        let crc = 0; // not checked by the reader
        let offset = out.len();
        out.extend(b"PK\x03\x04");
        out.extend(u16le(20));
        out.extend(u16le(0));
        out.extend(u16le(method));
        out.extend([0; 4]); // time, date
        out.extend(u32le(crc));
        out.extend(u32le(data.len()));
        out.extend(u32le(content.len()));
        out.extend(u16le(name.len()));
        out.extend(u16le(3)); // an extra field, as some tools write
        out.extend(name.as_bytes());
        out.extend([0; 3]);
        out.extend(&data);
        central.extend(b"PK\x01\x02");
        central.extend(u16le(20));
        central.extend(u16le(20));
        central.extend(u16le(0));
        central.extend(u16le(method));
        central.extend([0; 4]);
        central.extend(u32le(crc));
        central.extend(u32le(data.len()));
        central.extend(u32le(content.len()));
        central.extend(u16le(name.len()));
        central.extend(u16le(0)); // extra
        central.extend(u16le(2)); // comment
        central.extend(u16le(0));
        central.extend(u16le(0));
        central.extend(u32le(0));
        central.extend(u32le(offset));
        central.extend(name.as_bytes());
        central.extend(b"ok");
    }
    let directory = out.len();
    out.extend(&central);
    out.extend(b"PK\x05\x06");
    out.extend([0; 4]);
    out.extend(u16le(entries.len()));
    out.extend(u16le(entries.len()));
    out.extend(u32le(central.len()));
    out.extend(u32le(directory));
    out.extend(u16le(0));
    out
}

/// Lines in the format of `fra.txt`: English, a tab, French (with French spacing before `!`
/// and `?`, as no-break spaces), and one line without a tab.
const FRA_TXT: &str = "Go.\tVa !\nHi.\tSalut\u{a0}!\nRun!\tCours\u{202f}!\nWho?\tQui ?\n\
                       no tab here\nI'm home.\tJe suis chez moi.\n\
                       It's a very long sentence, isn't it?\tC'est une très longue phrase, n'est-ce pas ?\n\
                       Go.\tVa !\n";

#[test]
fn zip_entries_are_read_stored_or_deflated() {
    let dir = tempfile::tempdir().unwrap();
    for deflate in [false, true] {
        let path = dir.path().join(format!("fra-{deflate}.zip"));
        let archive = zip_archive(&[("_about.txt", b"about"), ("fra-eng/fra.txt", FRA_TXT.as_bytes())], deflate);
        std::fs::write(&path, archive).unwrap();
        assert_eq!(read_zip_text(&path, "fra.txt").unwrap(), FRA_TXT);
        assert_eq!(read_zip_text(&path, "_about.txt").unwrap(), "about");
        let missing = read_zip_text(&path, "eng.txt").unwrap_err().to_string();
        assert!(missing.contains("no entry `eng.txt`"), "{missing}");
    }
    let path = dir.path().join("not.zip");
    std::fs::write(&path, "plain text").unwrap();
    let error = read_zip_text(&path, "fra.txt").unwrap_err().to_string();
    assert!(error.contains("not.zip") && error.contains("not a zip archive"), "{error}");
}

#[test]
fn preprocessing_lowercases_and_separates_punctuation() {
    assert_eq!(preprocess_nmt("Go.\tVa !"), "go .\tva !");
    assert_eq!(preprocess_nmt("Hi.\tSalut\u{a0}!"), "hi .\tsalut !");
    assert_eq!(preprocess_nmt("Run!\tCours\u{202f}!"), "run !\tcours !");
    assert_eq!(preprocess_nmt("Yes, É?"), "yes , é ?");
    assert_eq!(preprocess_nmt(".Start"), ".start", "nothing to separate at the start");
    let (src, tgt) = tokenize_nmt(&preprocess_nmt(FRA_TXT), None);
    assert_eq!(src.len(), 7, "the line without a tab is skipped");
    assert_eq!(src[0], ["go", ".", "<eos>"]);
    assert_eq!(tgt[4], ["je", "suis", "chez", "moi", ".", "<eos>"]);
    let (src, _) = tokenize_nmt(&preprocess_nmt(FRA_TXT), Some(2));
    assert_eq!(src.len(), 2);
}

#[test]
fn translation_examples_are_padded_truncated_and_shifted() {
    let device = d2l::device();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fra-eng-test.zip");
    std::fs::write(&path, zip_archive(&[("fra.txt", FRA_TXT.as_bytes())], true)).unwrap();
    let raw_text = read_zip_text(&path, "fra.txt").unwrap();
    let config = MtFraEngConfig::new(2).with_num_steps(5).with_num_train(5).with_num_val(2);
    let data = config.load_text(&raw_text, "test".into(), &device).unwrap();
    let ((src, dec_input, valid_len), label) = data.arrays.clone();
    assert_eq!(src.dims(), [7, 5]);
    assert_eq!(dec_input.dims(), [7, 5]);
    assert_eq!(label.dims(), [7, 5]);
    let rows = |t: &Tensor<2, Int>, vocab: &Vocab| -> Vec<String> {
        let values: Vec<usize> = t.to_data().iter::<i64>().map(|i| i as usize).collect();
        values.chunks(5).map(|row| vocab.to_tokens(row).join(" ")).collect()
    };
    let (src, dec_input, label) = (rows(&src, &data.src_vocab), rows(&dec_input, &data.tgt_vocab), rows(&label, &data.tgt_vocab));
    // Tokens seen once are unknown (minimum frequency 2): "go" and "." repeat in the sources.
    assert_eq!(src[0], "go . <eos> <pad> <pad>");
    assert_eq!(label[0], "va ! <eos> <pad> <pad>");
    assert_eq!(dec_input[0], "<bos> va ! <eos> <pad>");
    assert_eq!(src[2], "<unk> <unk> <eos> <pad> <pad>");
    assert_eq!(src[4], "<unk> <unk> . <eos> <pad>");
    // Truncated to num_steps tokens: the <eos> is cut off.
    assert_eq!(src[5], "<unk> <unk> <unk> <unk> <unk>");
    assert_eq!(label[4], "<unk> <unk> <unk> <unk> <unk>");
    assert_eq!(dec_input[4], "<bos> <unk> <unk> <unk> <unk>");
    let valid: Vec<i64> = valid_len.to_data().iter::<i64>().collect();
    assert_eq!(valid, [3, 3, 3, 3, 4, 5, 3]);
    for special in ["<pad>", "<bos>", "<eos>", "<unk>"] {
        assert!(data.tgt_vocab.token_to_idx.contains_key(special), "{special}");
    }
    // Minibatches: 5 training pairs in 3 batches, 2 validation pairs in 1.
    let train: Vec<usize> = data.train_dataloader(&device).map(|((s, _, v), _)| { assert_eq!(s.dims()[0], v.dims()[0]); s.dims()[0] }).collect();
    assert_eq!(train, [2, 2, 1]);
    assert_eq!(data.val_dataloader(&device).count(), 1);
    // New sentences get the same treatment, with the data set's vocabularies.
    let ((src, _, valid_len), _) = data.build(&["Go.", "hi ."], &["Va !", "salut ."], &device);
    assert_eq!(rows(&src, &data.src_vocab), ["go . <eos> <pad> <pad>", "<unk> . <eos> <pad> <pad>"]);
    assert_eq!(valid_len.to_data().iter::<i64>().collect::<Vec<_>>(), [3, 3]);
    // Too little text for the requested examples is an error.
    let error = MtFraEngConfig::new(2).load_text(&raw_text, "test".into(), &device).unwrap_err();
    assert!(error.contains("too few"), "{error}");
}

#[test]
fn the_masked_loss_ignores_padding() {
    let device = d2l::device();
    let pad = 0;
    let y = Tensor::<2, Int>::from_data(TensorData::new(vec![3i64, 1, 0, 0, 2, 0], [2, 3]), &device);
    let y_hat = normal([2, 3, 4]);
    let loss = masked_cross_entropy(y_hat.clone(), y.clone(), pad).into_scalar::<f32>();
    // By hand: the mean of -log softmax over the three real tokens.
    let log_probs = burn::tensor::activation::log_softmax(y_hat.clone(), 2);
    let lp = |b: usize, t: usize, k: usize| {
        log_probs.clone().slice(s![b..b + 1, t..t + 1, k..k + 1]).into_scalar::<f32>()
    };
    let expected = -(lp(0, 0, 3) + lp(0, 1, 1) + lp(1, 1, 2)) / 3.0;
    assert!((loss - expected).abs() < 1e-5, "{loss} vs {expected}");
    // Changing the scores at padded positions changes nothing.
    let mask = Tensor::<2, Int>::from_data(TensorData::new(vec![0i64, 0, 1, 1, 0, 1], [2, 3]), &device);
    let noise = normal([2, 3, 4]) * 10.0 * mask.float().unsqueeze_dim::<3>(2);
    let noisy = masked_cross_entropy(y_hat + noise, y, pad).into_scalar::<f32>();
    assert!((noisy - loss).abs() < 1e-5);
}

#[test]
fn bleu_matches_hand_computed_values() {
    let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
    assert!(close(bleu("A B C D E F", "A B C D E F", 4), 1.0));
    // p1 = 4/5, p2 = 3/4, p3 = 1/3, p4 = 0; prediction 5 tokens, label 6.
    let brevity = (1.0f64 - 6.0 / 5.0).exp();
    let expected = brevity * (4.0f64 / 5.0).powf(0.5) * (3.0f64 / 4.0).powf(0.25) * (1.0f64 / 3.0).powf(0.125);
    assert!(close(bleu("A B B C D", "A B C D E F", 3), expected));
    assert!(close(bleu("A B B C D", "A B C D E F", 4), 0.0));
    // A short exact prefix: p1 = p2 = 1, only the brevity penalty exp(1 - 6/2).
    assert!(close(bleu("A B", "A B C D E F", 2), (-2.0f64).exp()));
    // A reference n-gram matches at most as often as it occurs: p1 = 1/3, p2 = 0.
    assert!(close(bleu("a a a", "a b c", 1), (1.0f64 / 3.0).powf(0.5)));
    // Predictions longer than the reference are not penalized; k beyond the length is cut.
    assert!(close(bleu("je suis chez moi .", "je suis .", 2), (3.0f64 / 5.0).powf(0.5) * (1.0f64 / 4.0).powf(0.25)));
    assert!(close(bleu("va !", "va !", 4), 1.0));
}

#[test]
fn beam_search_with_beam_size_one_is_greedy_search() {
    let device = d2l::device();
    let (src_vocab, tgt_vocab, num_steps) = (12, 15, 7);
    let (bos, eos) = (1, 2);
    for seed in 0..4 {
        device.seed(seed);
        let encoder = Seq2SeqEncoder::new(src_vocab, 8, 16, 2, 0.0, &device);
        let decoder = Seq2SeqDecoder::new(tgt_vocab, 8, 16, 2, 0.0, &device);
        let model = Seq2Seq::new(encoder, decoder, 0, 0.01);
        let src = Tensor::<2>::random([3, 5], Distribution::Uniform(0.0, src_vocab as f64), &device).int();
        let valid_len = Tensor::<1, Int>::full([3], 5, &device);
        let greedy = model.net.predict_step(src.clone(), valid_len.clone(), bos, num_steps);
        assert_eq!(greedy.dims(), [3, num_steps]);
        for i in 0..3 {
            let tokens: Vec<usize> =
                greedy.clone().slice(s![i..i + 1]).to_data().iter::<i64>().map(|t| t as usize).collect();
            let until_eos: Vec<usize> = tokens.iter().copied().take_while(|&t| t != eos).collect();
            let row = src.clone().slice(s![i..i + 1]);
            let (beam, _) = model.net.beam_search(row.clone(), valid_len.clone().slice(i..i + 1), bos, eos, 1, num_steps, 0.75);
            assert_eq!(beam, until_eos, "seed {seed}, sentence {i}");
            // A wider beam returns at most num_steps tokens, none of them <eos>.
            let (wide, _) = model.net.beam_search(row, valid_len.clone().slice(i..i + 1), bos, eos, 3, num_steps, 0.75);
            assert!(wide.len() <= num_steps && !wide.contains(&eos));
        }
    }
}
