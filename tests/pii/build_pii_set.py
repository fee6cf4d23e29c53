"""Builds tests/pii/pii_set.jsonl: Japanese messages such as citizens send, with and without personal data,
every piece labelled by span. サンプル（架空の内容）: every name, number and address here is made up.

Run `python -m tests.pii.build_pii_set` to rebuild (deterministic). Spans are character offsets into
`text`; types: name, phone, address, postal, email, building, mynumber.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

OUT = Path(__file__).with_name("pii_set.jsonl")
# Written after the masking rules were frozen and never used to change them: the honest figures.
HELDOUT = Path(__file__).with_name("pii_heldout.jsonl")
SURNAMES = ["佐藤", "工藤", "成田", "三上", "佐々木", "木村", "葛西", "棟方", "對馬", "奈良", "小山内", "鳴海",
            "齋藤", "斎藤", "山田", "田中", "高橋", "中村", "小林", "加藤", "吉田", "山本", "鈴木", "渡辺",
            "伊藤", "松本", "福士", "長内", "蝦名", "石岡"]
GIVEN = ["花子", "太郎", "翔太", "美咲", "健一", "陽菜", "大輔", "さくら", "直樹", "由美", "拓也", "恵子"]
PHONES = ["090-1234-5678", "080-9876-5432", "017-734-1111", "0177-23-4567", "070 1111 2222", "09012345678",
          "０９０－１２３４－５６７８", "(017)723-4567", "+81-90-1234-5678", "017‐765‐4321"]
EMAILS = ["yamada@example.jp", "hanako.sato@example.com", "k-kudo+city@mail.example.ne.jp", "taro123@example.org"]
ADDRESSES = ["青森市浜田1-2-3", "青森市新町二丁目4番5号", "青森市堤町1-10-2", "浪岡大字浪岡字稲村101番地1",
             "青森市花園2-3-4", "青森市古川三丁目5-6", "青森市八重田4丁目12番", "青森市大字大別内字葉山5番地",
             "青森市中央1-22-5", "青森市緑3-1-8"]
POSTALS = ["〒030-0801", "〒038-0012", "郵便番号030-8555"]
BUILDINGS = ["サンハイツ浜田201号室", "コーポ青森 105号室", "メゾン堤 3F 302号室", "グランドマンション新町 1203",
             "ハイツ花園 A棟 101号室", "青森第一ビル 5階", "さくら荘2号室", "レジデンス古川 402号室"]
MYNUMBERS = ["1234 5678 9012", "123456789012"]
HONORIFIC = ["さん", "様", "さま", "先生"]

# Templates: {name} full name, {sur} surname, {phone}, {email}, {addr}, {postal}, {bldg}, {mynum}.
TEMPLATES = [
    "{addr}の{sur}です。除雪車が来ません。",
    "{sur}と申します。子育て支援について教えてください。",
    "{name}です。連絡先は{phone}です。",
    "私は{sur}です。空き家の相談をしたいです。",
    "名前は{name}、電話{phone}です。",
    "近所の{sur}{hon}が、バス路線の廃止を心配しています。",
    "{sur}{hon}から聞いたのですが、新しい図書館はできますか？",
    "住所は{addr}です。ゴミ出しのルールは？",
    "{postal} {addr} {bldg} {name}",
    "{bldg}に住んでいます。雪捨て場はどこですか？",
    "返信は{email}までお願いします。",
    "メール {email} 電話 {phone}",
    "担当の{sur}{hon}によろしくお伝えください。",
    "父の{name}が介護サービスを受けたいと言っています。",
    "{addr} {bldg}の前の道路が凍結して危ないです。",
    "マイナンバーは{mynum}です。手続きはどうすれば？",
    "{name}と申します。{addr}在住です。",
    "連絡は{phone}（{sur}）まで。",
    "{sur}です。{bldg}の駐車場の除雪について。",
    "はじめまして、{name}といいます。移住を考えています。",
    "{postal}の住所に資料を送ってください。",
    "携帯：{phone}　メール：{email}",
    "母の{sur}が{addr}に一人で住んでいます。見守りはありますか？",
    "{sur}{hon}の家の前に雪が積まれて困っています。",
    "{name}（{phone}）",
]
# Messages without personal data: plan words, places, buildings without a name, numbers that are no phone.
NEGATIVE = [
    "冬の除雪はどうなる？", "浜田の除雪はどうなる？", "浜田地区に公園はできますか？", "青森駅前の再開発について",
    "堤町の交通量が増えています", "新町商店街を元気にする施策は？", "古川の渋滞対策は？",
    "空き家やマンションの管理は？",
    "市営住宅の計画は？", "子育て支援について知りたい", "政策17・施策52の全体を教えて", "施策3.2.2は何ですか",
    "2025年度の予算はいくら？", "人口減少への対策は？", "観光客を増やすには？", "ねぶた祭りの支援は？",
    "高齢者の見守りはありますか", "浪岡地区のバスは？", "八甲田の観光は？", "三内丸山遺跡の活用は？",
    "合浦公園の桜について", "アスパムの周りの整備は？", "DXの推進はどうなっていますか", "GXによる産業の育成とは？",
    "若者の起業支援を知りたい", "ふるさと納税はどう使われる？", "SDGsとの関係は？", "短命市の返上に向けた取組は？",
    "健康寿命を延ばすには", "雪対策の予算は", "除雪の日程が知りたい", "10年後の青森市はどうなる？",
    "施策は全部で何個？", "柱は3つですか", "1on1ミーティングって何？", "PFI手法の導入とは",
    "国際交流の取組は？", "学校の統合について", "病院が遠くて不便です", "バスの時刻表を知りたい",
    "ゴミの分別は？", "ごみ出しのルールを教えて", "市役所の電話番号は？", "017で始まる番号はどこの番号？",
    "1日100件の相談があるそうですね", "3丁目あたりの街灯が暗い", "ビルの老朽化対策は？", "アパートの空室が多い",
    "マンション建設のルールは？", "佐藤錦のブランド化は？", "田中角栄みたいな政治家はいる？", "成田空港への便は？",
    "奈良県との交流は？", "工藤公園はどこ？", "青森ねぶたの山車の数は？", "2030年の目標は？",
    "住所変更の手続きは？", "名前の変更はどこで？", "電話で問い合わせたい", "メールで質問できますか",
]


HELDOUT_SURNAMES = ["相馬", "小笠原", "西村", "坂本", "須藤", "横山", "竹内", "新岡", "秋元", "村上"]
HELDOUT_GIVEN = ["亮", "千尋", "和也", "優子", "悠斗", "真由美"]
HELDOUT_TEMPLATES = [
    "こんにちは。{sur}といいます。雪で家から出られません。",
    "{addr}に住んでいる{name}です",
    "息子の{sur}が市外に出たいと言っています",
    "{sur}{hon}が教えてくれた窓口はどこ？",
    "問い合わせ先：{name} {phone}",
    "折り返しは{phone}へ。{sur}より",
    "{bldg}の管理会社が除雪してくれません",
    "送り先 {postal} {addr} {bldg}",
    "{email}に返事ください（{name}）",
    "{name}{hon}の件、よろしくお願いします",
]
HELDOUT_NEGATIVE = [
    "相馬地区の道路整備は？", "西村山ってどこ？", "横山大観の展示はある？", "坂本龍馬のような人材育成？",
    "竹内街道は関係ある？", "新岡の農業振興は？", "村上春樹の本は図書館にある？", "小笠原諸島との交流は？",
    "須藤さんちのりんご園は観光資源？", "秋元湖のキャンプ場は？", "マンションの耐震化の補助は？",
    "200号室まである施設は？",
    "駅ビルの建て替えは？", "市内のアパートの家賃補助は？", "電話番号017-734-1111は代表ですか",
]


def build_heldout(seed: int = 2026, per_template: int = 4) -> list[dict[str, object]]:
    """The held-out set: other templates, other surnames, other plan-like words."""
    rng = random.Random(seed)
    SURNAMES[:] = HELDOUT_SURNAMES  # only here: the held-out messages use names the rules never saw
    GIVEN[:] = HELDOUT_GIVEN
    rows: list[dict[str, object]] = []
    seen: set[str] = set()
    for template in HELDOUT_TEMPLATES:
        for _ in range(per_template):
            text, spans = _fill(template, rng)
            if text not in seen:
                seen.add(text)
                rows.append({"text": text, "spans": spans})
    return rows + [{"text": text, "spans": []} for text in HELDOUT_NEGATIVE]


def _write(path: Path, rows: list[dict[str, object]]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        handle.write(json.dumps({"note": "サンプル（架空の内容）: all names, numbers and addresses are made up"},
                                ensure_ascii=False) + "\n")
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} messages, {sum(1 for r in rows if r['spans'])} with personal data -> {path}")


def _fill(template: str, rng: random.Random) -> tuple[str, list[dict[str, object]]]:
    values = {
        "sur": ("name", rng.choice(SURNAMES)),
        "name": ("name", rng.choice(SURNAMES) + rng.choice(GIVEN)),
        "phone": ("phone", rng.choice(PHONES)),
        "email": ("email", rng.choice(EMAILS)),
        "addr": ("address", rng.choice(ADDRESSES)),
        "postal": ("postal", rng.choice(POSTALS)),
        "bldg": ("building", rng.choice(BUILDINGS)),
        "mynum": ("mynumber", rng.choice(MYNUMBERS)),
        "hon": (None, rng.choice(HONORIFIC)),
    }
    text, spans = "", []
    for piece in re.split(r"(\{[a-z]+\})", template):
        if piece.startswith("{"):
            kind, value = values[piece[1:-1]]
            if kind is not None:
                spans.append({"start": len(text), "end": len(text) + len(value), "type": kind})
            text += value
        else:
            text += piece
    return text, spans


def build(seed: int = 14, per_template: int = 8) -> list[dict[str, object]]:
    """Every template filled `per_template` times, then the messages without personal data."""
    rng = random.Random(seed)
    rows: list[dict[str, object]] = []
    seen: set[str] = set()
    for template in TEMPLATES:
        for _ in range(per_template):
            text, spans = _fill(template, rng)
            if text not in seen:
                seen.add(text)
                rows.append({"text": text, "spans": spans})
    rows += [{"text": text, "spans": []} for text in NEGATIVE]
    return rows


if __name__ == "__main__":
    _write(OUT, build())
    _write(HELDOUT, build_heldout())
