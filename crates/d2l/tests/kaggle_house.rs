//! The Kaggle house price data: reading and checking the CSV files (with errors that name the
//! file at fault), preprocessing (standardization, missing values, one-hot encoding, log
//! prices), the data module, k-fold splits, the average loss, writing a submission, and the real
//! files.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::{entries, temp_dir};
use d2l::burn::tensor::Tensor;
use d2l::linear_classification::{DataError, DataHub};
use d2l::linear_regression::{DataModule, LinearRegressionConfig, Model};
use d2l::multilayer_perceptrons::{KaggleHouse, average_loss, k_fold_data, write_csv};
use polars::prelude::{Column, DataFrame, DataType};

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Training file: a numeric feature with a missing value, a categorical one with missing values,
/// a categorical one without, and the price.
const TRAIN: &str = "Id,LotArea,Alley,Street,SalePrice\n\
                     1,100,NA,Pave,1000\n\
                     2,200,Grvl,Pave,2000\n\
                     3,NA,Pave,Grvl,4000\n\
                     4,400,NA,Pave,8000\n";

/// Test file: the same columns in another order, no price.
const TEST: &str = "Id,Street,Alley,LotArea\n\
                    5,Pave,Grvl,500\n\
                    6,Grvl,NA,NA\n";

fn load(dir: &Path, train: &str, test: &str) -> Result<KaggleHouse, DataError> {
    KaggleHouse::from_csv(&write(dir, "train.csv", train), &write(dir, "test.csv", test), 3)
}

fn floats(column: &Column) -> Vec<Option<f64>> {
    column.cast(&DataType::Float64).unwrap().f64().unwrap().iter().collect()
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.to_data().iter::<f32>().collect()
}

fn names(data: &DataFrame) -> Vec<String> {
    data.get_column_names().iter().map(|n| n.to_string()).collect()
}

#[test]
fn reads_both_files_as_they_are() {
    let dir = temp_dir();
    let data = load(dir.path(), TRAIN, TEST).unwrap();
    assert_eq!((data.raw_train.shape(), data.raw_val.shape()), ((4, 5), (2, 4)));
    assert_eq!(data.raw_train.column("Alley").unwrap().null_count(), 2, "`NA` is a missing value");
    assert_eq!(data.raw_train.column("LotArea").unwrap().null_count(), 1);
    assert_eq!((data.train.shape(), data.val.shape()), ((0, 0), (0, 0)), "nothing preprocessed yet");
}

#[test]
fn preprocessing_standardizes_fills_and_one_hot_encodes() {
    let dir = temp_dir();
    let mut data = load(dir.path(), TRAIN, TEST).unwrap();
    data.preprocess().unwrap();
    let features = ["LotArea", "Alley_Grvl", "Alley_Pave", "Alley_null", "Street_Grvl", "Street_Pave"];
    // `Id` is gone; `Street` has no missing values, so no indicator column for them.
    assert_eq!(names(&data.train), [&features[..], &["SalePrice"]].concat());
    assert_eq!(names(&data.val), features);
    assert_eq!(data.num_features(), 6);

    // LotArea over both files: 100, 200, NA, 400 | 500, NA. Mean 300, sample std sqrt(100000 / 3).
    let std = (100000.0f64 / 3.0).sqrt();
    let lot: Vec<f64> = [data.train.column("LotArea").unwrap(), data.val.column("LotArea").unwrap()]
        .into_iter().flat_map(|c| floats(c)).map(Option::unwrap).collect();
    let expected = [-200.0 / std, -100.0 / std, 0.0, 100.0 / std, 200.0 / std, 0.0];
    for (got, want) in lot.iter().zip(expected) {
        assert!((got - want).abs() < 1e-9, "{lot:?} != {expected:?}");
    }
    // The known values have mean 0 and (sample) variance 1; the missing ones are 0.
    let known = [lot[0], lot[1], lot[3], lot[4]];
    let mean = known.iter().sum::<f64>() / 4.0;
    let var = known.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 3.0;
    assert!(mean.abs() < 1e-12 && (var - 1.0).abs() < 1e-12, "mean {mean}, variance {var}");

    // One-hot columns, with the indicator of a missing value.
    let column = |data: &DataFrame, name: &str| floats(data.column(name).unwrap());
    let ones = |v: &[f64]| v.iter().map(|&v| Some(v)).collect::<Vec<_>>();
    assert_eq!(column(&data.train, "Alley_Grvl"), ones(&[0.0, 1.0, 0.0, 0.0]));
    assert_eq!(column(&data.train, "Alley_Pave"), ones(&[0.0, 0.0, 1.0, 0.0]));
    assert_eq!(column(&data.train, "Alley_null"), ones(&[1.0, 0.0, 0.0, 1.0]));
    assert_eq!(column(&data.val, "Alley_null"), ones(&[0.0, 1.0]));
    assert_eq!(column(&data.val, "Street_Grvl"), ones(&[0.0, 1.0]));
    assert_eq!(column(&data.train, "SalePrice"), ones(&[1000.0, 2000.0, 4000.0, 8000.0]));
}

#[test]
fn the_tensors_hold_features_and_log_prices() {
    let dir = temp_dir();
    let mut data = load(dir.path(), TRAIN, TEST).unwrap();
    data.preprocess().unwrap();
    let device = d2l::device();
    let (x, y) = data.tensors(true, &device).unwrap();
    assert_eq!(x.dims(), [4, 6]);
    let y = y.expect("the training houses have prices");
    assert_eq!(y.dims(), [4, 1]);
    for (got, price) in values(y).iter().zip([1000.0f32, 2000.0, 4000.0, 8000.0]) {
        assert!((got - price.ln()).abs() < 1e-5, "{got} != ln {price}");
    }
    let std = (100000.0f32 / 3.0).sqrt();
    let first_row = values(x.slice(0..1));
    let expected = [-200.0 / std, 0.0, 0.0, 1.0, 0.0, 1.0];
    assert!(first_row.iter().zip(expected).all(|(a, b)| (a - b).abs() < 1e-6), "{first_row:?}");

    // The test houses have features but no prices.
    let (x_val, y_val) = data.tensors(false, &device).unwrap();
    assert_eq!((x_val.dims(), y_val.is_none()), ([2, 6], true));

    // The training loader serves every house once, in minibatches of 3; the validation loader
    // has nothing to serve without prices.
    let batches: Vec<_> = data.train_dataloader(&device).collect();
    assert_eq!(batches.iter().map(|(x, _)| x.dims()[0]).collect::<Vec<_>>(), [3, 1]);
    let mut seen: Vec<f32> = batches.into_iter().flat_map(|(_, y)| values(y)).map(|v| v.exp().round()).collect();
    seen.sort_by(f32::total_cmp);
    assert_eq!(seen, [1000.0, 2000.0, 4000.0, 8000.0]);
    assert_eq!(data.val_dataloader(&device).len(), 0);
}

/// A training file of `n` houses; house `i` sells for `1000 + i`.
fn many_houses(n: usize) -> String {
    let mut csv = "Id,LotArea,Street,SalePrice\n".to_string();
    for i in 0..n {
        csv += &format!("{},{},{},{}\n", i + 1, 100 + 7 * i, ["Pave", "Grvl"][i % 2], 1000 + i);
    }
    csv
}

fn prices(data: &DataFrame) -> Vec<usize> {
    floats(data.column("SalePrice").unwrap()).into_iter().map(|p| p.unwrap() as usize - 1000).collect()
}

#[test]
fn k_fold_validation_folds_are_disjoint_and_cover_the_data() {
    let dir = temp_dir();
    for (n, k) in [(7, 3), (10, 5), (5, 5), (12, 2)] {
        let mut data = load(dir.path(), &many_houses(n), "Id,LotArea,Street\n99,1,Pave\n").unwrap();
        data.preprocess().unwrap();
        let folds = k_fold_data(&data, k);
        assert_eq!(folds.len(), k);
        let mut validated = Vec::new();
        for fold in &folds {
            let (train, val) = (prices(&fold.train), prices(&fold.val));
            assert!(val.len() == n / k || val.len() == n / k + 1, "n {n}, k {k}: fold of {}", val.len());
            // Each split uses every house exactly once, for training or for validation.
            let mut all = [train.clone(), val.clone()].concat();
            all.sort();
            assert_eq!(all, (0..n).collect::<Vec<_>>(), "n {n}, k {k}");
            assert_eq!(names(&fold.train), names(&data.train));
            assert_eq!(fold.num_features(), data.num_features());
            validated.extend(val);
        }
        // Every house is validated exactly once.
        validated.sort();
        assert_eq!(validated, (0..n).collect::<Vec<_>>(), "n {n}, k {k}");
    }
}

#[test]
#[should_panic(expected = "needs 2 <= k <= 4 folds, not 5")]
fn k_fold_data_rejects_more_folds_than_houses() {
    let dir = temp_dir();
    let mut data = load(dir.path(), TRAIN, TEST).unwrap();
    data.preprocess().unwrap();
    k_fold_data(&data, 5);
}

#[test]
fn the_average_loss_is_the_loss_over_all_examples() {
    let dir = temp_dir();
    let mut data = load(dir.path(), &many_houses(10), "Id,LotArea,Street\n99,1,Pave\n").unwrap();
    data.preprocess().unwrap();
    let device = d2l::device();
    let model = LinearRegressionConfig::new(data.num_features(), 0.01).init(&device);
    // Minibatches of 3, 3, 3 and 1 houses: a plain mean of the batch losses would be off.
    let (x, y) = data.tensors(true, &device).unwrap();
    let whole = model.loss(model.forward(x), y.unwrap()).into_scalar::<f64>();
    let average = average_loss(&model, &data, true, &device);
    assert!((average - whole).abs() < 1e-4 * whole, "{average} != {whole}");
}

fn format_error(result: Result<KaggleHouse, DataError>) -> (PathBuf, String) {
    match result {
        Err(DataError::Format { path, reason }) => (path, reason),
        Err(other) => panic!("expected a format error, got {other}"),
        Ok(_) => panic!("expected a format error"),
    }
}

#[test]
fn a_missing_column_is_an_error_that_names_the_file() {
    let dir = temp_dir();
    let no_price = "Id,LotArea,Alley,Street\n1,100,NA,Pave\n";
    let (path, reason) = format_error(load(dir.path(), no_price, TEST));
    assert_eq!((path, reason.as_str()), (dir.path().join("train.csv"), "there is no column `SalePrice`"));

    let no_alley = "Id,Street,LotArea\n5,Pave,500\n";
    let error = load(dir.path(), TRAIN, no_alley).unwrap_err();
    let message = error.to_string();
    assert!(message.contains("test.csv") && message.contains("no column `Alley`"), "{message}");
}

#[test]
fn a_non_number_where_a_number_must_be_is_an_error_that_names_the_file() {
    let dir = temp_dir();
    let bad_price = TRAIN.replace("2,200,Grvl,Pave,2000", "2,200,Grvl,Pave,cheap");
    let (path, reason) = format_error(load(dir.path(), &bad_price, TEST));
    assert_eq!(path, dir.path().join("train.csv"));
    assert_eq!(reason, "column `SalePrice` must hold numbers, but line 3 has `cheap`");

    // A column of numbers in the training file must hold numbers in the test file too.
    let bad_area = TEST.replace("6,Grvl,NA,NA", "6,Grvl,NA,large");
    let error = load(dir.path(), TRAIN, &bad_area).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "`{}` is not a valid data file: column `LotArea` must hold numbers, but line 3 has `large`",
            dir.path().join("test.csv").display()
        )
    );
}

#[test]
fn prices_must_be_positive() {
    let dir = temp_dir();
    for (price, shown) in [("0", "0"), ("-5", "-5"), ("NA", "NA")] {
        let train = TRAIN.replace("4000", price);
        let (path, reason) = format_error(load(dir.path(), &train, TEST));
        assert_eq!(path, dir.path().join("train.csv"));
        assert_eq!(reason, format!("column `SalePrice` must hold positive numbers, but line 4 has `{shown}`"));
    }
}

#[test]
fn a_missing_file_is_an_io_error_that_names_it() {
    let dir = temp_dir();
    let train = write(dir.path(), "train.csv", TRAIN);
    let missing = dir.path().join("missing.csv");
    let error = KaggleHouse::from_csv(&train, &missing, 64).unwrap_err();
    assert!(matches!(&error, DataError::Io { path, .. } if *path == missing), "{error}");
    assert!(error.to_string().contains("missing.csv"), "{error}");
}

#[test]
fn a_file_that_is_not_csv_is_an_error_that_names_it() {
    let dir = temp_dir();
    let ragged = "Id,LotArea,SalePrice\n1,100,1000\n2,200,2000,extra,fields\n";
    let error = load(dir.path(), ragged, TEST).unwrap_err();
    assert!(matches!(&error, DataError::Format { path, .. } if *path == dir.path().join("train.csv")), "{error}");
}

#[test]
fn write_csv_replaces_the_file_in_one_step() {
    let dir = temp_dir();
    let path = dir.path().join("submission.csv");
    std::fs::write(&path, "old content").unwrap();
    let mut table = DataFrame::new(2, vec![
        Column::new("Id".into(), [1461i64, 1462]),
        Column::new("SalePrice".into(), [120000.5f64, 98000.0]),
    ]).unwrap();
    write_csv(&mut table, &path).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "Id,SalePrice\n1461,120000.5\n1462,98000.0\n");
    assert_eq!(entries(dir.path()), ["submission.csv"], "no temporary file is left behind");

    let nowhere = dir.path().join("no/such/folder/submission.csv");
    let error = write_csv(&mut table, &nowhere).unwrap_err();
    assert!(matches!(&error, DataError::Io { .. }), "{error}");
    assert!(error.to_string().contains("no/such/folder"), "{error}");
}

#[test]
fn loads_and_preprocesses_the_real_data() {
    let cache = temp_dir();
    let hub = DataHub { cache_dir: cache.path().to_path_buf(), mirrors: vec![common::shared_data()] };
    let mut data = KaggleHouse::load(&hub, 64).unwrap();
    assert_eq!((data.raw_train.shape(), data.raw_val.shape()), ((1460, 81), (1459, 80)));
    assert!(data.source.ends_with("(SHA-1 verified)"), "{}", data.source);
    data.preprocess().unwrap();
    // 36 numeric features and 275 indicator columns of 43 categorical ones.
    assert_eq!((data.train.shape(), data.val.shape()), ((1460, 312), (1459, 311)));
    assert_eq!(data.num_features(), 311);
    let (x, y) = data.tensors(true, &d2l::device()).unwrap();
    let (x, y) = (values(x), values(y.unwrap()));
    assert!(x.iter().all(|v| v.is_finite()), "no missing value is left");
    let mean_log_price = y.iter().sum::<f32>() / y.len() as f32;
    assert!((11.9..12.2).contains(&mean_log_price), "{mean_log_price}");
    let ids: BTreeSet<i64> = data.raw_val.column("Id").unwrap().i64().unwrap().iter().flatten().collect();
    assert_eq!((ids.first(), ids.last(), ids.len()), (Some(&1461), Some(&2919), 1459));
}

#[test]
fn column_types_come_from_all_rows() {
    // 150 whole numbers, then a fraction and a category name far below the first 100 rows.
    let dir = temp_dir();
    let mut train = many_houses(150);
    train += "151,2.5,Pave,5000\n152,300,Paved later,6000\n";
    let data = load(dir.path(), &train, "Id,LotArea,Street\n99,1,Pave\n").unwrap();
    let area = floats(data.raw_train.column("LotArea").unwrap());
    assert_eq!((area.len(), area[150]), (152, Some(2.5)));
    assert_eq!(data.raw_train.column("Street").unwrap().dtype(), &DataType::String);
}

#[test]
fn a_numeric_column_without_values_in_the_test_file_is_fine() {
    // Polars reads a column of nothing but `NA` as text; it is still a column of numbers.
    let dir = temp_dir();
    let test = "Id,Street,Alley,LotArea\n5,Pave,Grvl,NA\n6,Grvl,NA,NA\n";
    let mut data = load(dir.path(), TRAIN, test).unwrap();
    data.preprocess().unwrap();
    assert_eq!(floats(data.val.column("LotArea").unwrap()), [Some(0.0), Some(0.0)]);
    let lot = floats(data.train.column("LotArea").unwrap());
    // Standardized over the known values 100, 200 and 400 of the training file alone.
    let (mean, std) = (700.0 / 3.0, (70000.0f64 / 3.0).sqrt());
    assert!((lot[0].unwrap() - (100.0 - mean) / std).abs() < 1e-9, "{lot:?}");
    assert_eq!(lot[2], Some(0.0));
}
