//! Criterion benchmarks of the pure access model: parsing an aws-auth manifest, staging one
//! grant, and rendering (which re-parses to verify), at 100, 1,000 and 5,000 entries.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use okscript::access::arn::PrincipalKind;
use okscript::access::intent::Intent;
use okscript::access::manifest::Manifest;
use okscript::access::model::Protected;

fn manifest(entries: usize) -> String {
    let mut s = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n  mapRoles: |\n    - rolearn: arn:aws:iam::123456789012:role/eksctl-nodegroup-NodeInstanceRole-1\n      username: system:node:{{EC2PrivateDNSName}}\n      groups:\n      - system:bootstrappers\n      - system:nodes\n");
    for i in 1..entries {
        s.push_str(&format!("    - rolearn: arn:aws:iam::123456789012:role/team-{i:05}-developers\n      username: team-{i:05}:{{{{SessionName}}}}\n      groups:\n      - team-{i:05}\n      - viewers\n"));
    }
    s
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("aws-auth");
    for n in [100usize, 1000, 5000] {
        let text = manifest(n);
        group.bench_with_input(BenchmarkId::new("parse", n), &text, |b, t| {
            b.iter(|| Manifest::parse(t).unwrap())
        });
        let m = Manifest::parse(&text).unwrap();
        let (intent, _) = Intent::grant(
            PrincipalKind::Role,
            "arn:aws:iam::123456789012:role/new-team",
            &["new-team".into()],
            None,
            false,
        )
        .unwrap();
        group.bench_with_input(BenchmarkId::new("grant+render", n), &m, |b, m| {
            b.iter(|| {
                let mut auth = m.auth.clone();
                auth.apply(&intent, &Protected::default()).unwrap();
                m.render(&auth).unwrap()
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).warm_up_time(std::time::Duration::from_millis(500)).measurement_time(std::time::Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
