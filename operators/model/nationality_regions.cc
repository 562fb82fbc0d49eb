#include "operators/model/nationality_regions.h"

#include <algorithm>
#include <array>

#include "stream/hash.h"

namespace mozaiek {
namespace {

using R = NationalityRegion;

// Regions follow the UN M49 geoscheme (Turkey, the Caucasus and the Middle
// East are Asia; Mexico, Central America and the Caribbean are Latin America),
// except Cyprus, counted with Europe as an EU member state.
constexpr NationalityRow kRows[] = {
    // --- Africa ---------------------------------------------------------------
    {R::africa, "dz|dza|algeria|algerian"},
    {R::africa, "ao|ago|angola|angolan"},
    {R::africa, "bj|ben|benin|beninese"},
    {R::africa, "bw|bwa|botswana|motswana|batswana"},
    {R::africa, "bf|bfa|burkina faso|burkinabe"},
    {R::africa, "bi|bdi|burundi|burundian"},
    {R::africa, "cv|cpv|cabo verde|cape verde|cape verdean"},
    {R::africa, "cm|cmr|cameroon|cameroonian"},
    {R::africa, "cf|caf|central african republic|central african"},
    {R::africa, "td|tcd|chad|chadian"},
    {R::africa, "km|com|comoros|comorian"},
    {R::africa, "cg|cog|congo|republic of the congo|congolese"},
    {R::africa, "cd|cod|democratic republic of the congo|dr congo|drc"},
    {R::africa, "ci|civ|cote d'ivoire|c\xc3\xb4te d'ivoire|ivory coast|ivorian"},
    {R::africa, "dj|dji|djibouti|djiboutian"},
    {R::africa, "eg|egy|egypt|egyptian"},
    {R::africa, "gq|gnq|equatorial guinea|equatoguinean"},
    {R::africa, "er|eri|eritrea|eritrean"},
    {R::africa, "sz|swz|eswatini|swaziland|swazi"},
    {R::africa, "et|eth|ethiopia|ethiopian"},
    {R::africa, "ga|gab|gabon|gabonese"},
    {R::africa, "gm|gmb|gambia|the gambia|gambian"},
    {R::africa, "gh|gha|ghana|ghanaian"},
    {R::africa, "gn|gin|guinea|guinean"},
    {R::africa, "gw|gnb|guinea-bissau|bissau-guinean"},
    {R::africa, "ke|ken|kenya|kenyan"},
    {R::africa, "ls|lso|lesotho|basotho"},
    {R::africa, "lr|lbr|liberia|liberian"},
    {R::africa, "ly|lby|libya|libyan"},
    {R::africa, "mg|mdg|madagascar|malagasy"},
    {R::africa, "mw|mwi|malawi|malawian"},
    {R::africa, "ml|mli|mali|malian"},
    {R::africa, "mr|mrt|mauritania|mauritanian"},
    {R::africa, "mu|mus|mauritius|mauritian"},
    {R::africa, "ma|mar|morocco|moroccan"},
    {R::africa, "mz|moz|mozambique|mozambican"},
    {R::africa, "na|nam|namibia|namibian"},
    {R::africa, "ne|ner|niger|nigerien"},
    {R::africa, "ng|nga|nigeria|nigerian"},
    {R::africa, "rw|rwa|rwanda|rwandan"},
    {R::africa, "st|stp|sao tome and principe|santomean"},
    {R::africa, "sn|sen|senegal|senegalese"},
    {R::africa, "sc|syc|seychelles|seychellois"},
    {R::africa, "sl|sle|sierra leone|sierra leonean"},
    {R::africa, "so|som|somalia|somali"},
    {R::africa, "za|zaf|south africa|south african"},
    {R::africa, "ss|ssd|south sudan|south sudanese"},
    {R::africa, "sd|sdn|sudan|sudanese"},
    {R::africa, "tz|tza|tanzania|tanzanian"},
    {R::africa, "tg|tgo|togo|togolese"},
    {R::africa, "tn|tun|tunisia|tunisian"},
    {R::africa, "ug|uga|uganda|ugandan"},
    {R::africa, "zm|zmb|zambia|zambian"},
    {R::africa, "zw|zwe|zimbabwe|zimbabwean"},
    {R::africa, "eh|esh|western sahara|sahrawi"},
    // --- Asia -----------------------------------------------------------------
    {R::asia, "af|afg|afghanistan|afghan"},
    {R::asia, "am|arm|armenia|armenian"},
    {R::asia, "az|aze|azerbaijan|azerbaijani"},
    {R::asia, "bh|bhr|bahrain|bahraini"},
    {R::asia, "bd|bgd|bangladesh|bangladeshi"},
    {R::asia, "bt|btn|bhutan|bhutanese"},
    {R::asia, "bn|brn|brunei|bruneian"},
    {R::asia, "kh|khm|cambodia|cambodian"},
    {R::asia, "cn|chn|china|chinese"},
    {R::asia, "ge|geo|georgia|georgian"},
    {R::asia, "hk|hkg|hong kong"},
    {R::asia, "in|ind|india|indian"},
    {R::asia, "id|idn|indonesia|indonesian"},
    {R::asia, "ir|irn|iran|iranian"},
    {R::asia, "iq|irq|iraq|iraqi"},
    {R::asia, "il|isr|israel|israeli"},
    {R::asia, "jp|jpn|japan|japanese"},
    {R::asia, "jo|jor|jordan|jordanian"},
    {R::asia, "kz|kaz|kazakhstan|kazakh"},
    {R::asia, "kw|kwt|kuwait|kuwaiti"},
    {R::asia, "kg|kgz|kyrgyzstan|kyrgyz"},
    {R::asia, "la|lao|laos|laotian"},
    {R::asia, "lb|lbn|lebanon|lebanese"},
    {R::asia, "mo|mac|macao|macau"},
    {R::asia, "my|mys|malaysia|malaysian"},
    {R::asia, "mv|mdv|maldives|maldivian"},
    {R::asia, "mn|mng|mongolia|mongolian"},
    {R::asia, "mm|mmr|myanmar|burma|burmese"},
    {R::asia, "np|npl|nepal|nepali|nepalese"},
    {R::asia, "kp|prk|north korea|north korean"},
    {R::asia, "om|omn|oman|omani"},
    {R::asia, "pk|pak|pakistan|pakistani"},
    {R::asia, "ps|pse|palestine|palestinian"},
    {R::asia, "ph|phl|philippines|filipino|philippine"},
    {R::asia, "qa|qat|qatar|qatari"},
    {R::asia, "sa|sau|saudi arabia|saudi|saudi arabian"},
    {R::asia, "sg|sgp|singapore|singaporean"},
    {R::asia, "kr|kor|south korea|korea|south korean|korean"},
    {R::asia, "lk|lka|sri lanka|sri lankan"},
    {R::asia, "sy|syr|syria|syrian"},
    {R::asia, "tw|twn|taiwan|taiwanese"},
    {R::asia, "tj|tjk|tajikistan|tajik"},
    {R::asia, "th|tha|thailand|thai"},
    {R::asia, "tl|tls|timor-leste|east timor|timorese"},
    {R::asia, "tr|tur|turkey|turkiye|t\xc3\xbcrkiye|turkish"},
    {R::asia, "tm|tkm|turkmenistan|turkmen"},
    {R::asia, "ae|are|united arab emirates|uae|emirati"},
    {R::asia, "uz|uzb|uzbekistan|uzbek"},
    {R::asia, "vn|vnm|vietnam|viet nam|vietnamese"},
    {R::asia, "ye|yem|yemen|yemeni"},
    // --- Europe ---------------------------------------------------------------
    {R::europe, "al|alb|albania|albanian"},
    {R::europe, "ad|and|andorra|andorran"},
    {R::europe, "at|aut|austria|austrian"},
    {R::europe, "by|blr|belarus|belarusian"},
    {R::europe, "be|bel|belgium|belgian"},
    {R::europe, "ba|bih|bosnia and herzegovina|bosnia|bosnian"},
    {R::europe, "bg|bgr|bulgaria|bulgarian"},
    {R::europe, "hr|hrv|croatia|croatian"},
    {R::europe, "cy|cyp|cyprus|cypriot"},
    {R::europe, "cz|cze|czechia|czech republic|czech"},
    {R::europe, "dk|dnk|denmark|danish"},
    {R::europe, "ee|est|estonia|estonian"},
    {R::europe, "fi|fin|finland|finnish"},
    {R::europe, "fr|fra|france|french"},
    {R::europe, "de|deu|d|germany|german"},  // "D": Germany's code in passports
    {R::europe, "gr|grc|greece|greek"},
    {R::europe, "hu|hun|hungary|hungarian"},
    {R::europe, "is|isl|iceland|icelandic"},
    {R::europe, "ie|irl|ireland|irish"},
    {R::europe, "it|ita|italy|italian"},
    {R::europe, "xk|xkx|kosovo|kosovar"},
    {R::europe, "lv|lva|latvia|latvian"},
    {R::europe, "li|lie|liechtenstein"},
    {R::europe, "lt|ltu|lithuania|lithuanian"},
    {R::europe, "lu|lux|luxembourg|luxembourgish|luxembourger"},
    {R::europe, "mt|mlt|malta|maltese"},
    {R::europe, "md|mda|moldova|moldovan"},
    {R::europe, "mc|mco|monaco|monegasque"},
    {R::europe, "me|mne|montenegro|montenegrin"},
    {R::europe, "nl|nld|netherlands|the netherlands|holland|dutch"},
    {R::europe, "mk|mkd|north macedonia|macedonia|macedonian"},
    {R::europe, "no|nor|norway|norwegian"},
    {R::europe, "pl|pol|poland|polish"},
    {R::europe, "pt|prt|portugal|portuguese"},
    {R::europe, "ro|rou|romania|romanian"},
    {R::europe, "ru|rus|russia|russian federation|russian"},
    {R::europe, "sm|smr|san marino"},
    {R::europe, "rs|srb|serbia|serbian"},
    {R::europe, "sk|svk|slovakia|slovak"},
    {R::europe, "si|svn|slovenia|slovenian|slovene"},
    {R::europe, "es|esp|spain|spanish"},
    {R::europe, "se|swe|sweden|swedish"},
    {R::europe, "ch|che|switzerland|swiss"},
    {R::europe, "ua|ukr|ukraine|ukrainian"},
    {R::europe, "gb|gbr|uk|united kingdom|great britain|britain|british"},
    {R::europe, "va|vat|vatican|holy see"},
    // --- North America --------------------------------------------------------
    {R::north_america, "us|usa|united states|united states of america|american"},
    {R::north_america, "ca|can|canada|canadian"},
    {R::north_america, "gl|grl|greenland"},
    {R::north_america, "bm|bmu|bermuda"},
    // --- Latin America and the Caribbean --------------------------------------
    {R::latin_america, "mx|mex|mexico|mexican"},
    {R::latin_america, "gt|gtm|guatemala|guatemalan"},
    {R::latin_america, "bz|blz|belize|belizean"},
    {R::latin_america, "sv|slv|el salvador|salvadoran"},
    {R::latin_america, "hn|hnd|honduras|honduran"},
    {R::latin_america, "ni|nic|nicaragua|nicaraguan"},
    {R::latin_america, "cr|cri|costa rica|costa rican"},
    {R::latin_america, "pa|pan|panama|panamanian"},
    {R::latin_america, "cu|cub|cuba|cuban"},
    {R::latin_america, "do|dom|dominican republic|dominican"},
    {R::latin_america, "ht|hti|haiti|haitian"},
    {R::latin_america, "jm|jam|jamaica|jamaican"},
    {R::latin_america, "tt|tto|trinidad and tobago|trinidadian"},
    {R::latin_america, "bs|bhs|bahamas|bahamian"},
    {R::latin_america, "bb|brb|barbados|barbadian"},
    {R::latin_america, "dm|dma|dominica"},
    {R::latin_america, "gd|grd|grenada|grenadian"},
    {R::latin_america, "lc|lca|saint lucia"},
    {R::latin_america, "vc|vct|saint vincent and the grenadines"},
    {R::latin_america, "kn|kna|saint kitts and nevis"},
    {R::latin_america, "ag|atg|antigua and barbuda"},
    {R::latin_america, "cw|cuw|curacao|cura\xc3\xa7\x61o"},
    {R::latin_america, "aw|abw|aruba|aruban"},
    {R::latin_america, "sx|sxm|sint maarten"},
    {R::latin_america, "pr|pri|puerto rico|puerto rican"},
    {R::latin_america, "sr|sur|suriname|surinamese"},
    {R::latin_america, "gy|guy|guyana|guyanese"},
    {R::latin_america, "co|col|colombia|colombian"},
    {R::latin_america, "ve|ven|venezuela|venezuelan"},
    {R::latin_america, "ec|ecu|ecuador|ecuadorian"},
    {R::latin_america, "pe|per|peru|peruvian"},
    {R::latin_america, "bo|bol|bolivia|bolivian"},
    {R::latin_america, "br|bra|brazil|brazilian"},
    {R::latin_america, "py|pry|paraguay|paraguayan"},
    {R::latin_america, "uy|ury|uruguay|uruguayan"},
    {R::latin_america, "ar|arg|argentina|argentine|argentinian"},
    {R::latin_america, "cl|chl|chile|chilean"},
    // --- Oceania --------------------------------------------------------------
    {R::oceania, "au|aus|australia|australian"},
    {R::oceania, "nz|nzl|new zealand|new zealander"},
    {R::oceania, "pg|png|papua new guinea|papua new guinean"},
    {R::oceania, "fj|fji|fiji|fijian"},
    {R::oceania, "sb|slb|solomon islands"},
    {R::oceania, "vu|vut|vanuatu"},
    {R::oceania, "ws|wsm|samoa|samoan"},
    {R::oceania, "to|ton|tonga|tongan"},
    {R::oceania, "ki|kir|kiribati"},
    {R::oceania, "fm|fsm|micronesia"},
    {R::oceania, "mh|mhl|marshall islands"},
    {R::oceania, "pw|plw|palau"},
    {R::oceania, "nr|nru|nauru"},
    {R::oceania, "tv|tuv|tuvalu"},
};

constexpr std::array<std::string_view, kNationalityRegionCount> kRegionNames = {
    "africa", "asia", "europe", "north_america", "oceania", "latin_america", "unknown"};

constexpr std::size_t kMaxNationalityChars = 48;

// Built on first use, then read-only: safe to share between task threads.
const StringMap<NationalityRegion>& alias_index() {
  static const StringMap<NationalityRegion> index = [] {
    StringMap<NationalityRegion> m;
    for (const auto& row : kRows) {
      std::string_view rest = row.aliases;
      while (!rest.empty()) {
        const auto bar = rest.find('|');
        m.emplace(std::string(rest.substr(0, bar)), row.region);
        rest = bar == std::string_view::npos ? std::string_view() : rest.substr(bar + 1);
      }
    }
    return m;
  }();
  return index;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

}  // namespace

std::string_view to_string(NationalityRegion r) {
  const auto i = static_cast<std::size_t>(r);
  return i < kRegionNames.size() ? kRegionNames[i] : std::string_view("unknown");
}

std::span<const NationalityRow> nationality_table() { return kRows; }

NationalityRegion nationality_region(std::string_view nationality) {
  // Lower case with whitespace runs collapsed to one space, into a stack buffer.
  char buf[kMaxNationalityChars];
  std::size_t n = 0;
  bool pending_space = false;
  for (char c : nationality) {
    if (is_space(c)) {
      pending_space = n > 0;
      continue;
    }
    if (pending_space) {
      if (n == sizeof buf) return R::unknown;
      buf[n++] = ' ';
      pending_space = false;
    }
    if (n == sizeof buf) return R::unknown;
    buf[n++] = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  }
  const auto& index = alias_index();
  const auto it = index.find(std::string_view(buf, n));
  return it == index.end() ? R::unknown : it->second;
}

NationalityRegionIndex::NationalityRegionIndex(const std::vector<std::string>& configured) {
  // Region labels beyond 255 cannot occur in a sane config; the index is a byte.
  const std::size_t n = std::min<std::size_t>(configured.size(), 255);
  unknown_ = n == 0 ? 0 : static_cast<std::uint8_t>(n - 1);
  for (std::size_t i = 0; i < n; ++i) {
    if (configured[i] == "unknown") unknown_ = static_cast<std::uint8_t>(i);
  }
  for (std::size_t r = 0; r < kNationalityRegionCount; ++r) {
    by_region_[r] = unknown_;
    for (std::size_t i = 0; i < n; ++i) {
      if (configured[i] == kRegionNames[r]) by_region_[r] = static_cast<std::uint8_t>(i);
    }
  }
}

std::uint8_t NationalityRegionIndex::index_of(std::string_view nationality) const {
  return by_region_[static_cast<std::size_t>(nationality_region(nationality))];
}

}  // namespace mozaiek
